/**
 * `pnpm --filter @cvm/backend bench [-- --threads N] [--sizes 224x288,448x576] [--train 224x288]
 *   [--checkpoint off|on|both] [--runs 1] [--scaling] [--no-pytorch] [--json]`
 *
 * The CvM (default, paper-size configuration, 2 views, batch 1) on tfjs-backend-wasm as @cvm/backend
 * sets it up (XNNPACK, SIMD, threads, training kernels, fused cost volume) next to PyTorch on the same
 * machine in the same run (bench/cvm_pytorch_bench.py: the restatement the parity fixtures are made
 * with; Debian python3-torch, same thread count). Prints per size the forward time and per training
 * size the time of a training step (forward, backward, Adam update), with ratios tfjs / PyTorch, the
 * peaks (live tensor bytes and wasm heap size beside PyTorch's peak RSS), the training step's kernel
 * breakdown and, with --scaling, the forward with 1 thread against N. Times vary 2–3× with machine load:
 * compare the ratios, which are measured back to back.
 *
 * `--checkpoint on` trains with activation checkpointing (`forwardSegments` + `checkpointedGradients`),
 * `both` runs the step without and then with it. `--sizes none` skips the forward timings. The wasm heap
 * only grows: its size is the process's high-water mark so far (run one configuration per process for
 * a clean figure). Live memory at the peak is broken down by the kernel and shape of the tensors the
 * gradient tape holds (of the whole step, or of the segment whose backward peaks).
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { registerWasmBackend, wasmThreadsCount } from '@cvm/backend';
import { benchArgs, handheldTwoViewRig, median, timeOnce, wasmHeapBytes } from '@cvm/test-utils/bench';
// The union package registers every stock gradient (tfjs-core alone has none).
import '@tensorflow/tfjs';
import { checkpointedGradients, type Segment } from '@cvm/nn';
import * as tf from '@tensorflow/tfjs-core';
import { CrossViewModule } from '../src/index.js';

const { flag, option, json, log } = benchArgs();
const threads = Number(option('threads', String(Math.min(availableParallelism(), 8))));
const sizes = option('sizes', '224x288,448x576')
  .split(',')
  .filter((s) => s && s !== 'none');
const trainSizes = option('train', '224x288').split(',').filter(Boolean);
const runs = Number(option('runs', '1'));
const CHECKPOINT_MODES: Record<string, boolean[]> = { off: [false], on: [true], both: [false, true] };
const checkpointModes = CHECKPOINT_MODES[option('checkpoint', 'off')] ?? [];
if (checkpointModes.length === 0) throw new Error("--checkpoint must be 'off', 'on' or 'both'");
const parseSize = (s: string) => s.split('x').map(Number) as [number, number];

function cameras(h: number, w: number) {
  const rig = handheldTwoViewRig(h, w);
  return { intrinsics: [rig.intrinsics, rig.intrinsics], cameraToWorld: rig.cameraToWorld };
}

/** First call timed alone, then the median of `runs` more (seconds). */
async function timeIt(f: () => Promise<void>): Promise<{ first: number; median: number }> {
  const first = await timeOnce(f);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await timeOnce(f));
  return { first, median: times.length ? median(times) : first };
}

function inputs(h: number, w: number): tf.Tensor4D[] {
  return [1, 2].map((seed) => tf.randomUniform([1, h, w, 3], 0, 1, 'float32', seed) as tf.Tensor4D);
}

async function forwardTime(model: CrossViewModule, size: string) {
  const [h, w] = parseSize(size);
  const images = inputs(h, w);
  const cams = cameras(h, w);
  const t = await timeIt(async () => {
    const out = model.forward(images, cams);
    await Promise.all(out.map((o) => o.data()));
    tf.dispose(out);
  });
  tf.dispose(images);
  return t;
}

interface KernelRow {
  name: string;
  ms: number;
  calls: number;
}

interface MemoryRow {
  what: string;
  mib: number;
  count: number;
}

/**
 * Live bytes held by the gradient tape being recorded, by producing kernel and shape (largest first).
 * Bench-only diagnostics: reads tfjs's engine state (`activeTape`, not a public API), never writes it.
 */
function tapeBreakdown(): { mib: number; rows: MemoryRow[] } | null {
  const tape = (tf.engine() as unknown as { state: { activeTape: TapeNode[] | null } }).state.activeTape;
  if (!tape) return null;
  const seen = new Set<object>();
  const rows = new Map<string, MemoryRow>();
  let bytes = 0;
  for (const node of tape) {
    for (const t of [...(node.saved ?? []), ...node.outputs]) {
      if (t.isDisposed || seen.has(t.dataId)) continue;
      seen.add(t.dataId);
      const what = `${node.kernelName} [${t.shape}]`;
      const row = rows.get(what) ?? { what, mib: 0, count: 0 };
      row.mib += (t.size * 4) / 2 ** 20;
      row.count++;
      rows.set(what, row);
      bytes += t.size * 4;
    }
  }
  return { mib: bytes / 2 ** 20, rows: [...rows.values()].sort((a, b) => b.mib - a.mib) };
}
interface TapeNode {
  kernelName: string;
  outputs: tf.Tensor[];
  saved?: tf.Tensor[];
}

const meanSquares: Segment = (outs) => [tf.addN(outs.map((o) => tf.mean(tf.square(o))))];

async function trainStep(model: CrossViewModule, size: string, checkpoint: boolean) {
  const [h, w] = parseSize(size);
  const images = inputs(h, w);
  const cams = cameras(h, w);
  const vars = model.namedParameters().map(([, v]) => v as tf.Variable);
  const optimizer = tf.train.adam(1e-4);
  // The largest tape seen: the whole step's, or (checkpointing) the heaviest segment's recomputation.
  let atPeak: { mib: number; rows: MemoryRow[]; live: number } | null = null;
  const recordTape = () => {
    const b = tapeBreakdown();
    if (b && (!atPeak || b.mib > atPeak.mib)) atPeak = { ...b, live: tf.memory().numBytes / 2 ** 20 };
  };
  const watched =
    (seg: Segment): Segment =>
    (xs) => {
      const out = seg(xs);
      recordTape();
      return out;
    };
  const plainStep = async () => {
    const loss = optimizer.minimize(
      () => {
        const l = meanSquares(model.forward(images, cams))[0] as tf.Scalar;
        recordTape();
        return l;
      },
      true,
      vars,
    );
    await loss!.data();
    loss!.dispose();
  };
  const checkpointedStep = async () => {
    const { inputs: ins, segments } = model.forwardSegments(images, cams);
    const { value, grads } = checkpointedGradients([...segments, meanSquares].map(watched), ins, vars);
    optimizer.applyGradients(vars.map((v, i) => ({ name: v.name, tensor: grads[i] as tf.Tensor })));
    await value.data();
    tf.dispose([value, ...(grads as tf.Tensor[])]);
  };
  const step = checkpoint ? checkpointedStep : plainStep;
  const t = await timeIt(step);
  // One more step under tf.profile: peak of live tensor bytes and the kernel breakdown.
  const before = tf.memory().numBytes;
  const tensorsBefore = tf.memory().numTensors;
  const info = await tf.profile(step);
  const leaked = tf.memory().numTensors - tensorsBefore;
  const byName = new Map<string, KernelRow>();
  for (const k of info.kernels) {
    const row = byName.get(k.name) ?? { name: k.name, ms: 0, calls: 0 };
    row.ms += k.kernelTimeMs as number;
    row.calls++;
    byName.set(k.name, row);
  }
  const kernels = [...byName.values()].sort((a, b) => b.ms - a.ms);
  tf.dispose(images);
  optimizer.dispose();
  return {
    ...t,
    peakTensorMiB: (info.peakBytes - before) / 2 ** 20,
    heapMiB: wasmHeapBytes(tf.backend()) / 2 ** 20,
    leaked,
    kernels,
    atPeak: atPeak as { mib: number; rows: MemoryRow[]; live: number } | null,
  };
}

function pytorch(mode: 'forward' | 'train', size: string, n: number) {
  if (flag('no-pytorch')) return undefined;
  const script = fileURLToPath(new URL('./cvm_pytorch_bench.py', import.meta.url));
  const r = spawnSync(
    '/usr/bin/python3',
    [script, '--threads', String(n), '--size', size, '--mode', mode, '--runs', String(runs)],
    {
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) {
    log(
      `  PyTorch ${mode} ${size}: failed (${(r.stderr || r.error?.message || '').trim().split('\n').pop()})`,
    );
    return undefined;
  }
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as {
    first_s: number;
    median_s: number;
    peak_rss_mib: number;
  };
}

async function useWasm(n: number) {
  if (tf.engine().registry.wasm) tf.removeBackend('wasm');
  await registerWasmBackend({ threads: n });
  await tf.setBackend('wasm');
  return wasmThreadsCount();
}

const ratio = (a: number, b?: number) => (b ? `${(a / b).toFixed(2)}×` : '—');

async function main() {
  const actual = await useWasm(threads);
  let model = new CrossViewModule();
  log(
    `CvM (default configuration), 2 views, batch 1; tfjs-backend-wasm with ${actual} thread(s); PyTorch ${threads} thread(s)`,
  );
  const result: Record<string, unknown> = { threads: actual, forward: [], train: [], scaling: [] };

  log('\nforward      tfjs first  tfjs median   PyTorch median   ratio');
  for (const size of sizes) {
    const t = await forwardTime(model, size);
    const p = pytorch('forward', size, threads);
    log(
      `${size.padEnd(10)} ${t.first.toFixed(2).padStart(10)}s ${t.median.toFixed(2).padStart(11)}s ${(p ? `${p.median_s.toFixed(2)}s` : '—').padStart(16)} ${ratio(t.median, p?.median_s).padStart(7)}`,
    );
    (result.forward as unknown[]).push({ size, tfjs: t, pytorch: p });
  }

  for (const size of trainSizes) {
    const p = pytorch('train', size, threads);
    for (const checkpoint of checkpointModes) {
      const t = await trainStep(model, size, checkpoint);
      const label = checkpoint ? 'with activation checkpointing' : 'without checkpointing';
      log(
        `\ntraining step ${size} ${label}: tfjs ${t.median.toFixed(2)} s (first ${t.first.toFixed(2)} s), PyTorch ${p ? `${p.median_s.toFixed(2)} s` : '—'}, ratio ${ratio(t.median, p?.median_s)}`,
      );
      log(
        `  peak: tfjs live tensors ${t.peakTensorMiB.toFixed(0)} MiB, wasm heap ${t.heapMiB.toFixed(0)} MiB; PyTorch peak RSS ${p ? `${p.peak_rss_mib.toFixed(0)} MiB` : '—'}; tensors left after the step: ${t.leaked}`,
      );
      if (t.atPeak) {
        log(
          `  largest gradient tape: ${t.atPeak.mib.toFixed(0)} MiB held by the tape (${t.atPeak.live.toFixed(0)} MiB live then), by kernel and shape:`,
        );
        for (const r of t.atPeak.rows.slice(0, 12)) {
          log(
            `    ${r.what.padEnd(44)} ${r.mib.toFixed(1).padStart(8)} MiB ${String(r.count).padStart(5)} tensors`,
          );
        }
      }
      const total = t.kernels.reduce((s, k) => s + k.ms, 0);
      log('  kernel breakdown (profiled step):');
      for (const k of t.kernels.slice(0, 15)) {
        log(
          `    ${k.name.padEnd(26)} ${k.ms.toFixed(0).padStart(8)} ms ${((100 * k.ms) / total).toFixed(1).padStart(5)}% ${String(k.calls).padStart(6)} calls`,
        );
      }
      (result.train as unknown[]).push({
        size,
        checkpoint,
        tfjs: {
          ...t,
          kernels: t.kernels.slice(0, 30),
          atPeak: t.atPeak && { ...t.atPeak, rows: t.atPeak.rows.slice(0, 30) },
        },
        pytorch: p,
      });
    }
  }

  if (flag('scaling') && threads > 1) {
    const size = sizes[0]!;
    log(`\nthread scaling, forward ${size}:`);
    for (const n of [threads, 1]) {
      // Variables live on the backend: a new instance needs a new model.
      model.dispose();
      const got = await useWasm(n);
      model = new CrossViewModule();
      const t = await forwardTime(model, size);
      log(`  ${got} thread(s): ${t.median.toFixed(2)} s`);
      (result.scaling as unknown[]).push({ threads: got, size, seconds: t.median });
    }
  }
  if (json) console.log(JSON.stringify(result));
  model.dispose();
  tf.removeBackend('wasm'); // ends the pthread workers
}

await main();
