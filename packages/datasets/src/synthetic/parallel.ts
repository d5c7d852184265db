import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { MultiViewSample } from '../schema.js';
import { type Split, SyntheticWorld, type SyntheticWorldOptions } from './world.js';

/** One sample to render: scene `index` of `split`. */
export interface SampleRequest {
  split: Split;
  index: number;
}

/** Every typed-array buffer of a sample (to transfer it between threads without copying). */
export function sampleBuffers(sample: MultiViewSample): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (const v of sample.views) {
    out.push(
      v.rgb.buffer as ArrayBuffer,
      v.intrinsics.buffer as ArrayBuffer,
      v.cameraToWorld.buffer as ArrayBuffer,
    );
    if (v.labels) for (const a of Object.values(v.labels)) if (a) out.push(a.buffer as ArrayBuffer);
  }
  return out;
}

/** How to start a render worker: the compiled `render-worker.js`, or from the TypeScript sources through tsx. */
function startWorker(workerData: unknown): Worker {
  const js = new URL('./render-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(js))) return new Worker(js, { workerData });
  // Running from the sources (tests, tsx): `--import tsx` does not reach worker threads, so the worker
  // registers tsx's ESM hooks itself before importing the TypeScript entry. tsx is a devDependency.
  const require = createRequire(import.meta.url);
  const tsxPackage = require.resolve('tsx/package.json');
  const api = JSON.parse(readFileSync(tsxPackage, 'utf8')).exports['./esm/api'].import.default as string;
  const apiUrl = pathToFileURL(join(dirname(tsxPackage), api)).href;
  const entry = new URL('./render-worker.ts', import.meta.url).href;
  const code = `import(${JSON.stringify(apiUrl)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); }).catch((e) => { console.error(e); process.exit(1); });`;
  return new Worker(code, { eval: true, workerData });
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
  const pool = Array.from({ length: workers }, () => startWorker(world.options));
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
