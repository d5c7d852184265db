import type { MultiViewSample } from '../schema.js';
import { startModuleWorker } from '../worker-start.js';
import { type Split, SyntheticWorld, type SyntheticWorldOptions } from './world.js';

/** One sample to render: scene `index` of `split`. */
export interface SampleRequest {
  split: Split;
  index: number;
}

/**
 * The typed-array buffers of a sample that can be transferred between threads without copying: each
 * buffer once, and only buffers an array owns whole (a view into a shared pool, e.g. a Node Buffer's,
 * is left to be copied).
 */
export function sampleBuffers(sample: MultiViewSample): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  const add = (a: ArrayBufferView | undefined) => {
    if (a && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength && a.buffer instanceof ArrayBuffer)
      out.add(a.buffer);
  };
  for (const v of sample.views) {
    add(v.rgb);
    add(v.intrinsics);
    add(v.cameraToWorld);
    if (v.labels) for (const a of Object.values(v.labels)) add(a);
  }
  return [...out];
}

/**
 * Renders samples on `workers` worker threads (node:worker_threads); results come back in request
 * order and are byte-identical to `world.sample()` on the main thread. `workers: 0` renders inline.
 *
 * @example
 * const samples = await renderSamples({ seed: 1 }, [{ split: 'train', index: 0 }, { split: 'train', index: 1 }], { workers: 2 });
 */
export async function renderSamples(
  worldOptions: SyntheticWorldOptions,
  requests: readonly SampleRequest[],
  options: {
    workers?: number;
    onSample?: (sample: MultiViewSample, position: number) => void | Promise<void>;
  } = {},
): Promise<MultiViewSample[]> {
  const world = new SyntheticWorld(worldOptions); // validates options and indices up front
  for (const r of requests) world.sceneId(r.split, r.index);
  const workers = Math.min(options.workers ?? 0, requests.length);
  if (!Number.isInteger(workers) || workers < 0)
    throw new Error(`renderSamples: workers must be a non-negative integer, got ${options.workers}`);
  const results: MultiViewSample[] = new Array(requests.length);
  if (workers === 0) {
    for (let i = 0; i < requests.length; i++) {
      results[i] = world.sample(requests[i].split, requests[i].index);
      await options.onSample?.(results[i], i);
    }
    return results;
  }
  let next = 0;
  const pool = Array.from({ length: workers }, () =>
    startModuleWorker(import.meta.url, 'render-worker', world.options),
  );
  try {
    await Promise.all(
      pool.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            let current = -1;
            const dispatch = () => {
              if (next >= requests.length) {
                resolve();
                return;
              }
              current = next++;
              worker.postMessage({ position: current, request: requests[current] });
            };
            worker.on(
              'message',
              (message: { position: number; sample?: MultiViewSample; error?: string }) => {
                if (message.error !== undefined) {
                  reject(
                    new Error(
                      `renderSamples: worker failed on request ${message.position}: ${message.error}`,
                    ),
                  );
                  return;
                }
                results[message.position] = message.sample!;
                Promise.resolve(options.onSample?.(message.sample!, message.position)).then(dispatch, reject);
              },
            );
            worker.on('error', reject);
            worker.on('exit', (code) => {
              if (next < requests.length || (current >= 0 && results[current] === undefined))
                reject(new Error(`renderSamples: worker exited with code ${code} before finishing`));
            });
            dispatch();
          }),
      ),
    );
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
  return results;
}
