/**
 * `pnpm --filter @cvm/mtl-heads bench [--json] [--runs N=2] [--backends wasm,cpu] [--size 64x96] [--dim 64] [--cvm small|paper] [--paper] [--paper-backends wasm] [--paper-runs N=0] [--paper-rows 0,1,2,3] [--paper-checkpoint on|off]`
 *
 * Times one training step (forward, NYUD's weighted losses, backward, clip 10, AdamW + schedule) of the
 * 3D-aware multi-task model: 2 views, batch 1, NYUD's four heads with the CvM output fused at 1/4, and
 * a Cross-view Module of the small configuration (default: C = 32, 2 blocks, L = 32) or the paper's
 * (`--cvm paper`: C = 128, 6 blocks, L = 128, 4.93 M parameters). The encoder is the test encoder
 * (patch-16 conv + 4 residual Linear+GELU stages of width `--dim`), so the same step restates in
 * PyTorch (`bench/train_step_torch.py`, run by this script when `/usr/bin/python3` has torch) and the
 * ratio is measured under the same load.
 *
 * `--paper` adds the paper's configuration (`@cvm/encoders`' `dinov3_vitb16` / `dinov3_vitl16`, paper
 * CvM, 448×576) and the parts of it that fit where the whole does not (`PAPER_ROWS`), each on every
 * backend of `--paper-backends` (default: `--backends`) in its own child process (a wasm heap that runs out aborts its module for good;
 * the row then reports the out-of-memory with the live tensor bytes), and each restated in PyTorch with
 * its peak RSS. `--paper-runs` timed steps after the first (default 0: the first step only);
 * `--paper-rows` which of `PAPER_ROWS` to run (default all). The paper rows train with activation
 * checkpointing (`Trainer`'s `checkpointActivations`: the ViT per block, the CvM per layer, the heads
 * per task) unless `--paper-checkpoint off`, and report the peaks of the tfjs process: live tensor buffers
 * (weights, gradients and AdamW's state included), the wasm heap and the RSS. A row whose training state
 * cannot fit the backend is refused before anything is allocated (`checkTrainingStateFits`), and its
 * PyTorch restatement is then skipped (nothing to compare it with).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BackendName, cpuXnnpackHeapBytes, selectBackend, wasmThreadsCount } from '@cvm/backend';
import { activeBackends, wasmHeapBytes } from '@cvm/test-utils/bench';
import { createEncoder } from '@cvm/encoders';
// The union package registers the cpu backend and every stock gradient (tfjs-core alone has none).
import '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs-core';
import {
  datasetTasks,
  type MultiScaleEncoder,
  MultiTaskModel,
  Trainer,
  WASM32_HEAP_BYTES,
} from '../src/index.js';
import { TinyEncoder } from '../test/helpers.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const json = args.includes('--json');
const runs = Number(flag('runs', '2'));
const paperRuns = Number(flag('paper-runs', '0'));
const backends = flag('backends', 'wasm,cpu').split(',');
const paperBackends = flag('paper-backends', backends.join(',')).split(',');
const paperCheckpoint = flag('paper-checkpoint', 'on');
if (paperCheckpoint !== 'on' && paperCheckpoint !== 'off')
  throw new Error(`--paper-checkpoint must be 'on' or 'off', got '${paperCheckpoint}'`);
const [height, width] = flag('size', '64x96').split('x').map(Number);
const dim = Number(flag('dim', '64'));
const cvmSize = flag('cvm', 'small');
if (cvmSize !== 'small' && cvmSize !== 'paper')
  throw new Error(`--cvm must be 'small' or 'paper', got '${cvmSize}'`);
type CvmSize = 'none' | 'small' | 'paper';
/** The small CvM (`--cvm small`); the paper's is the CrossViewModule default. */
const SMALL_CVM = {
  encoderDims: [16, 24, 32] as [number, number, number],
  featureChannels: 32,
  numLayers: 2,
  adapterHidden: 64,
  upsamplerHidden: 64,
  depthRange: { near: 0.5, far: 10, count: 32 },
};
const GiB = 2 ** 30;
const log = (s: string): void => {
  if (!json) console.log(s);
};

/** The paper configuration (ViT-B/L, paper CvM, 448×576) and the parts of it that fit in wasm32. */
const PAPER_ROWS: { encoder: 'vitb' | 'vitl'; cvm: CvmSize; h: number; w: number }[] = [
  { encoder: 'vitb', cvm: 'none', h: 448, w: 576 }, // encoder + heads, without the CvM
  { encoder: 'vitb', cvm: 'paper', h: 224, w: 288 }, // the whole step at a quarter of the pixels
  { encoder: 'vitb', cvm: 'paper', h: 448, w: 576 }, // the paper's step
  { encoder: 'vitl', cvm: 'paper', h: 448, w: 576 },
];
const PRESET = { vitb: 'dinov3_vitb16', vitl: 'dinov3_vitl16' } as const;
const paperRows = flag('paper-rows', PAPER_ROWS.map((_, i) => i).join(','))
  .split(',')
  .map(Number);
if (!paperRows.every((i) => Number.isInteger(i) && i >= 0 && i < PAPER_ROWS.length))
  throw new Error(`--paper-rows must be indices of PAPER_ROWS (0..${PAPER_ROWS.length - 1})`);

interface Row {
  backend: string;
  config: string;
  firstMs: number;
  medianMs: number;
  parameters: number;
  /** Trained with activation checkpointing. */
  checkpoint: boolean;
  /** Peaks of the process (GiB): live tensor bytes, the wasm heap (wasm, cpu-xnnpack), the RSS. */
  peakTensorGiB?: number;
  wasmHeapGiB?: number;
  maxRssGiB?: number;
  /** Set when the step could not run (the measured reason). */
  error?: string;
}

/**
 * Peak of the bytes of tfjs's live tensor buffers from now on, each buffer once (`tf.memory().numBytes`
 * counts a buffer again for every tensor sharing it: reshapes, the clones a gradient tape saves).
 * Bench-only diagnostics: it watches the engine's buffer registry (`engine.state.tensorInfo`, not a
 * public API), without changing what it holds. Buffers made before the call are not counted.
 */
function watchPeakTensorBytes(): () => number {
  const registry = (tf.engine() as unknown as { state: { tensorInfo: WeakMap<object, { bytes: number }> } })
    .state.tensorInfo;
  const counted = new WeakMap<object, number>();
  let live = 0;
  let peak = 0;
  const set = registry.set.bind(registry);
  const remove = registry.delete.bind(registry);
  registry.set = (dataId, info) => {
    if (!counted.has(dataId)) {
      counted.set(dataId, info.bytes);
      live += info.bytes;
      peak = Math.max(peak, live);
    }
    return set(dataId, info);
  };
  registry.delete = (dataId) => {
    live -= counted.get(dataId) ?? 0;
    counted.delete(dataId);
    return remove(dataId);
  };
  return () => peak;
}

/** The process's peaks so far (GiB); `peakTensorBytes` from `watchPeakTensorBytes`. */
function memoryPeaks(backend: string, peakTensorBytes: () => number) {
  return {
    peakTensorGiB: peakTensorBytes() / GiB,
    wasmHeapGiB:
      backend === 'wasm'
        ? wasmHeapBytes(tf.backend()) / GiB
        : backend === 'cpu-xnnpack'
          ? cpuXnnpackHeapBytes() / GiB
          : undefined,
    // resourceUsage's maxRSS is in KiB.
    maxRssGiB: process.resourceUsage().maxRSS / 2 ** 20,
  };
}

async function timeStep(
  backend: string,
  config: string,
  encoder: MultiScaleEncoder,
  h: number,
  w: number,
  cvm: CvmSize,
  timedRuns: number,
  checkpoint = false,
): Promise<Row> {
  const model = new MultiTaskModel(encoder, {
    tasks: datasetTasks('nyud'),
    cvm: cvm === 'none' ? 'none' : 'full',
    cvmConfig: cvm === 'small' ? SMALL_CVM : {},
  });
  const parameters = model.numParameters();
  let trainer: Trainer;
  try {
    // Refuses a model whose training state cannot fit the backend, before allocating it.
    trainer = new Trainer(model, { checkpointActivations: checkpoint });
  } catch (err) {
    model.dispose();
    return {
      backend,
      config,
      firstMs: Number.NaN,
      medianMs: Number.NaN,
      parameters,
      checkpoint,
      error: `not run: ${(err as Error).message}`,
    };
  }
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
  for (let i = 0; i < timedRuns; i++) {
    t0 = performance.now();
    await trainer.step(batch);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const row = {
    backend,
    config,
    firstMs,
    medianMs: times.length ? times[Math.floor(times.length / 2)] : firstMs,
    parameters,
    checkpoint,
  };
  tf.dispose([...images, ...Object.values(labels)]);
  trainer.dispose();
  model.dispose();
  return row;
}

/** The reason a step failed, in words: the wasm heap's abort says only "Aborted()". */
function failure(backend: string, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const live = `${(tf.memory().numBytes / GiB).toFixed(2)} GiB of live tensors`;
  if (
    backend === 'wasm' &&
    /Aborted\(|out of memory|Cannot enlarge memory|memory access out of bounds/i.test(message)
  ) {
    return `out of memory: the wasm heap could not grow past wasm32's ${WASM32_HEAP_BYTES / GiB} GiB (${live} when the allocation failed)`;
  }
  return `failed: ${message.split('\n')[0]} (${live})`;
}

/** One paper row in this process (the child side of `--paper`): prints its Row as JSON. */
async function paperRowChild(index: number, backend: string): Promise<void> {
  const { encoder, cvm, h, w } = PAPER_ROWS[index];
  const config = `${PRESET[encoder]} ${cvm === 'none' ? 'no CvM' : `${cvm} CvM`} ${h}x${w}`;
  const checkpoint = paperCheckpoint === 'on';
  let row: Row;
  let peak = () => tf.memory().numBytes;
  try {
    await selectBackend([backend as BackendName]);
    peak = watchPeakTensorBytes();
    const enc = createEncoder(PRESET[encoder]);
    row = await timeStep(backend, config, enc, h, w, cvm, paperRuns, checkpoint);
  } catch (err) {
    row = {
      backend,
      config,
      firstMs: Number.NaN,
      medianMs: Number.NaN,
      parameters: 0,
      checkpoint,
      error: failure(backend, err),
    };
  }
  console.log(JSON.stringify({ ...row, ...memoryPeaks(backend, peak) }));
  process.exit(0); // an aborted wasm module may keep worker threads alive
}

/** Runs paper row `index` on `backend` in a child process, so that an aborted wasm heap ends only it. */
function paperRow(index: number, backend: string): Row {
  const { encoder, cvm, h, w } = PAPER_ROWS[index];
  const res = spawnSync(
    process.execPath,
    [
      ...process.execArgv,
      fileURLToPath(import.meta.url),
      '--paper-row',
      String(index),
      '--backends',
      backend,
      '--paper-runs',
      String(paperRuns),
      '--paper-checkpoint',
      paperCheckpoint,
    ],
    { encoding: 'utf8', maxBuffer: 1 << 26 },
  );
  const last = res.stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(last) as Row;
  } catch {
    const why = res.signal ? `killed by ${res.signal}` : `exit code ${res.status}`;
    return {
      backend,
      config: `${PRESET[encoder]} ${cvm} CvM ${h}x${w}`,
      firstMs: Number.NaN,
      medianMs: Number.NaN,
      parameters: 0,
      checkpoint: paperCheckpoint === 'on',
      error: `crashed (${why}): ${res.stderr.trim().split('\n').slice(-2).join(' | ')}`,
    };
  }
}

interface TorchResult {
  firstMs: number;
  medianMs: number;
  threads: number;
  parameters: number;
  peakRssGiB: number;
}

/** PyTorch's step on `threads` threads (XNNPACK's count when wasm or cpu-xnnpack ran; else torch's default). */
function torchStep(
  h: number,
  w: number,
  threads: number | undefined,
  opts: { encoder?: string; cvm?: CvmSize; runs?: number } = {},
): TorchResult | null {
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
          '--dim',
          String(dim),
          '--runs',
          String(opts.runs ?? runs),
          '--cvm',
          opts.cvm ?? cvmSize,
          '--encoder',
          opts.encoder ?? 'test',
          ...(threads ? ['--threads', String(threads)] : []),
        ],
        // libgomp's threads spin while they wait: on a machine shared with other busy processes two
        // spinning threads made the small step 100x slower (12.8 s vs 0.12 s measured); tfjs's don't.
        { encoding: 'utf8', env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' } },
      ),
    );
  } catch (err) {
    log(`pytorch: skipped (${(err as Error).message.split('\n')[0]})`);
    return null;
  }
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

async function main(): Promise<void> {
  const rows: Row[] = [];
  log(
    `training step: 2 views, batch 1, NYUD heads, ${cvmSize} CvM; ${height}x${width}, test encoder D=${dim}`,
  );
  let tfjsThreads: number | undefined;
  for await (const backend of activeBackends<BackendName>(backends, (b) => selectBackend([b]), log)) {
    if (backend === 'wasm' || backend === 'cpu-xnnpack') tfjsThreads = await wasmThreadsCount();
    rows.push(
      await timeStep(
        backend,
        `test-encoder D=${dim} ${height}x${width}`,
        new TinyEncoder(dim),
        height,
        width,
        cvmSize as CvmSize,
        runs,
      ),
    );
    log(
      `${backend}: first ${rows.at(-1)?.firstMs.toFixed(0)} ms, median ${rows.at(-1)?.medianMs.toFixed(0)} ms`,
    );
  }
  const torch = torchStep(height, width, tfjsThreads);
  if (torch) {
    log(
      `pytorch (cpu, ${torch.threads} threads): first ${torch.firstMs.toFixed(0)} ms, median ${torch.medianMs.toFixed(0)} ms`,
    );
    for (const r of rows) log(`  ${r.backend} / pytorch: ${(r.medianMs / torch.medianMs).toFixed(2)}x`);
  }
  const paper: { row: (typeof PAPER_ROWS)[number]; tfjs: Row[]; torch: TorchResult | null }[] = [];
  if (args.includes('--paper')) {
    log(
      `paper configuration (${paperRuns ? `median of ${paperRuns} after the first step` : 'first step'}; activation checkpointing ${paperCheckpoint}):`,
    );
    for (const i of paperRows) {
      const row = PAPER_ROWS[i];
      const tfjs = paperBackends.map((b) => paperRow(i, b));
      const refused = tfjs.every((r) => r.error?.startsWith('not run'));
      if (refused) log(`  pytorch: not run (no tfjs backend could run this row to compare with)`);
      const pt = refused
        ? null
        : torchStep(row.h, row.w, tfjsThreads, { encoder: row.encoder, cvm: row.cvm, runs: paperRuns });
      paper.push({ row, tfjs, torch: pt });
      const gib = (x: number | undefined) => (x === undefined ? '–' : `${x.toFixed(2)} GiB`);
      for (const r of tfjs) {
        const ratio = pt && !r.error ? ` (${(r.medianMs / pt.medianMs).toFixed(2)}x pytorch)` : '';
        log(
          `  ${r.backend} ${r.config}, checkpointing ${r.checkpoint ? 'on' : 'off'}: ${r.error ?? seconds(r.medianMs)}${ratio}\n    peaks: live tensors ${gib(r.peakTensorGiB)}, wasm heap ${gib(r.wasmHeapGiB)}, RSS ${gib(r.maxRssGiB)}`,
        );
      }
      if (pt)
        log(
          `  pytorch ${PRESET[row.encoder]} ${row.cvm} CvM ${row.h}x${row.w}: ${seconds(pt.medianMs)}, peak RSS ${pt.peakRssGiB.toFixed(2)} GiB, ${(pt.parameters / 1e6).toFixed(1)} M parameters`,
        );
    }
  }
  if (json)
    console.log(JSON.stringify({ height, width, dim, cvm: cvmSize, runs, rows, torch, paper }, null, 2));
}

if (args.includes('--paper-row')) await paperRowChild(Number(flag('paper-row', '0')), backends[0]);
else await main();
