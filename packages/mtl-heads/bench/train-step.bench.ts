/**
 * `pnpm --filter @cvm/mtl-heads bench [--json] [--runs N=2] [--backends cpu] [--size 64x96] [--dim 64] [--cvm small|paper] [--paper]`
 *
 * Times one training step (forward, NYUD's weighted losses, backward, clip 10, AdamW + schedule) of the
 * 3D-aware multi-task model: 2 views, batch 1, NYUD's four heads with the CvM output fused at 1/4, and
 * a Cross-view Module of the small configuration (default: C = 32, 2 blocks, L = 32) or the paper's
 * (`--cvm paper`: C = 128, 6 blocks, L = 128, 4.93 M parameters). The encoder is the test encoder
 * (patch-16 conv + 4 residual Linear+GELU stages of width `--dim`), so the same step restates in
 * PyTorch (`bench/train_step_torch.py`, run by this script when `/usr/bin/python3` has torch) and the
 * ratio is measured under the same load. `--paper` adds the paper's encoders (`@cvm/encoders`'
 * `dinov3_vitb16`, `dinov3_vitl16`) with the paper CvM at 448×576 (TypeScript only; on the cpu backend
 * one step takes tens of minutes, see the cvm-module README's forward figures).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BackendName, selectBackend, wasmThreadsCount } from '@cvm/backend';
import { activeBackends } from '@cvm/test-utils/bench';
import { createEncoder } from '@cvm/encoders';
// The union package registers the cpu backend and every stock gradient (tfjs-core alone has none).
import '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs-core';
import { datasetTasks, type MultiScaleEncoder, MultiTaskModel, Trainer } from '../src/index.js';
import { TinyEncoder } from '../test/helpers.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const json = args.includes('--json');
const runs = Number(flag('runs', '2'));
const backends = flag('backends', 'wasm,cpu').split(',');
const [height, width] = flag('size', '64x96').split('x').map(Number);
const dim = Number(flag('dim', '64'));
const cvmSize = flag('cvm', 'small');
if (cvmSize !== 'small' && cvmSize !== 'paper')
  throw new Error(`--cvm must be 'small' or 'paper', got '${cvmSize}'`);
/** The small CvM (`--cvm small`); the paper's is the CrossViewModule default. */
const SMALL_CVM = {
  encoderDims: [16, 24, 32] as [number, number, number],
  featureChannels: 32,
  numLayers: 2,
  adapterHidden: 64,
  upsamplerHidden: 64,
  depthRange: { near: 0.5, far: 10, count: 32 },
};
const log = (s: string): void => {
  if (!json) console.log(s);
};

interface Row {
  backend: string;
  config: string;
  firstMs: number;
  medianMs: number;
  parameters: number;
}

async function timeStep(
  backend: string,
  config: string,
  encoder: MultiScaleEncoder,
  h: number,
  w: number,
  paperCvm: boolean,
): Promise<Row> {
  const model = new MultiTaskModel(encoder, {
    tasks: datasetTasks('nyud'),
    cvm: 'full',
    cvmConfig: paperCvm ? {} : SMALL_CVM,
  });
  const trainer = new Trainer(model);
  const rand = (shape: number[], max: number, dtype: 'float32' | 'int32' = 'float32') =>
    tf.tidy(() =>
      dtype === 'int32'
        ? tf.floor(tf.randomUniform(shape, 0, max)).toInt()
        : tf.randomUniform(shape, 0.5, max),
    );
  const images = [0, 1].map(() => tf.randomUniform([1, h, w, 3]));
  const K = [
    [0.8 * w, 0, w / 2 - 0.5],
    [0, 0.8 * w, h / 2 - 0.5],
    [0, 0, 1],
  ];
  const cameras = {
    intrinsics: [K, K],
    cameraToWorld: [
      [
        [1, 0, 0, 0],
        [0, 1, 0, 0],
        [0, 0, 1, 0],
        [0, 0, 0, 1],
      ],
      [
        [1, 0, 0, 0.1],
        [0, 1, 0, 0],
        [0, 0, 1, 0],
        [0, 0, 0, 1],
      ],
    ],
  };
  const labels = {
    semseg: rand([1, h, w], 40, 'int32'),
    depth: rand([1, h, w], 5),
    normals: tf.tidy(() => tf.div(tf.randomNormal([1, h, w, 3]), 2)),
    edge: rand([1, h, w], 2, 'int32'),
  };
  const batch = { images, cameras, labels };
  let t0 = performance.now();
  await trainer.step(batch);
  const firstMs = performance.now() - t0;
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    t0 = performance.now();
    await trainer.step(batch);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const row = {
    backend,
    config,
    firstMs,
    medianMs: times[Math.floor(times.length / 2)],
    parameters: model.numParameters(),
  };
  tf.dispose([...images, ...Object.values(labels)]);
  trainer.dispose();
  model.dispose();
  return row;
}

/** PyTorch's step on `threads` threads (the wasm backend's count, when it ran; else torch's default). */
function torchStep(
  h: number,
  w: number,
  threads: number | undefined,
): { firstMs: number; medianMs: number; threads: number } | null {
  if (!existsSync('/usr/bin/python3')) return null;
  const script = join(dirname(fileURLToPath(import.meta.url)), 'train_step_torch.py');
  try {
    return JSON.parse(
      execFileSync(
        '/usr/bin/python3',
        [
          script,
          String(h),
          String(w),
          String(dim),
          String(runs),
          cvmSize,
          ...(threads ? [String(threads)] : []),
        ],
        {
          encoding: 'utf8',
        },
      ),
    );
  } catch (err) {
    log(`pytorch: skipped (${(err as Error).message.split('\n')[0]})`);
    return null;
  }
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  log(
    `training step: 2 views, batch 1, NYUD heads, ${cvmSize} CvM; ${height}x${width}, test encoder D=${dim}`,
  );
  let tfjsThreads: number | undefined;
  for await (const backend of activeBackends<BackendName>(backends, (b) => selectBackend([b]), log)) {
    if (backend === 'wasm') tfjsThreads = await wasmThreadsCount();
    rows.push(
      await timeStep(
        backend,
        `test-encoder D=${dim} ${height}x${width}`,
        new TinyEncoder(dim),
        height,
        width,
        cvmSize === 'paper',
      ),
    );
    log(
      `${backend}: first ${rows.at(-1)?.firstMs.toFixed(0)} ms, median ${rows.at(-1)?.medianMs.toFixed(0)} ms`,
    );
    if (args.includes('--paper')) {
      for (const name of ['dinov3_vitb16', 'dinov3_vitl16']) {
        rows.push(await timeStep(backend, `${name} 448x576`, createEncoder(name), 448, 576, true));
        log(
          `${backend} ${name}: first ${rows.at(-1)?.firstMs.toFixed(0)} ms, median ${rows.at(-1)?.medianMs.toFixed(0)} ms`,
        );
      }
    }
  }
  const torch = torchStep(height, width, tfjsThreads);
  if (torch) {
    log(
      `pytorch (cpu, ${torch.threads} threads): first ${torch.firstMs.toFixed(0)} ms, median ${torch.medianMs.toFixed(0)} ms`,
    );
    for (const r of rows.filter((x) => x.config.startsWith('test-encoder'))) {
      log(`  ${r.backend} / pytorch: ${(r.medianMs / torch.medianMs).toFixed(2)}x`);
    }
  }
  if (json) console.log(JSON.stringify({ height, width, dim, cvm: cvmSize, runs, rows, torch }, null, 2));
}

await main();
