/**
 * `pnpm --filter @cvm/backend bench:kernels [-- --threads 2 --size 224x288 --models cvm,vit,heads --budget 100 --scaling --json]`
 *
 * Per-kernel speed of the wasm backend against PyTorch at the shapes the project's models train with.
 * Records every kernel call (name, input shapes, attributes) of one forward + backward of
 * (a) the CvM (default configuration, 2 views), (b) a ViT-B encoder (`dinov3_vitb16`) and (c) the SAK
 * decode heads and NYUD losses (one `Trainer.step`, AdamW update included, on a ViT-B-wide test
 * encoder), then times each distinct call alone on wasm and its PyTorch counterpart
 * (`bench/kernels_torch.py`, Debian python3-torch, the same thread count) in the same run, and prints
 * per kernel and per call the share of the models' time, wasm ms, PyTorch ms and the ratio, flagging
 * calls slower than 2× PyTorch. `--scaling` also times the calls at the top of the table with 1 thread
 * and with N, in alternating rounds, for the thread scaling. Lives here because this package is the
 * one that assembles all three models; the recorder is @cvm/backend's `recordKernelCalls`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type RecordedKernel,
  recordKernelCalls,
  selectBackend,
  timeKernelCall,
  wasmThreadsCount,
} from '@cvm/backend';
import { CrossViewModule } from '@cvm/cvm-module';
import { createEncoder } from '@cvm/encoders';
import { benchArgs, handheldTwoViewRig, median } from '@cvm/test-utils/bench';
// The union package registers every stock gradient (tfjs-core alone has none).
import '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs-core';
import { datasetTasks, MultiTaskModel, Trainer } from '../src/index.js';
import { TinyEncoder } from '../test/helpers.js';

const { flag, option, json, log } = benchArgs();
const threads = Number(option('threads', '2'));
const [H, W] = option('size', '224x288').split('x').map(Number) as [number, number];
const models = option('models', 'cvm,vit,heads').split(',');
const budgetMs = Number(option('budget', '100'));
/** Calls slower than this multiple of PyTorch's are flagged. */
const LIMIT = 2;

/** Loss = Σ mean(out²) over `outs`, differentiated with respect to every trainable variable. */
function forwardBackward(vars: tf.Variable[], forward: () => tf.Tensor[]): void {
  tf.tidy(() => {
    const { value, grads } = tf.variableGrads(
      () => tf.addN(forward().map((o) => tf.mean(tf.square(o)))) as tf.Scalar,
      vars,
    );
    tf.dispose([value, ...Object.values(grads)]);
  });
}

const trainable = (m: { namedParameters(): [string, tf.Variable][] }) =>
  m.namedParameters().flatMap(([, v]) => (v.trainable ? [v] : []));

async function recordCvm(): Promise<RecordedKernel[]> {
  const model = new CrossViewModule();
  const rig = handheldTwoViewRig(H, W);
  const cameras = { intrinsics: [rig.intrinsics, rig.intrinsics], cameraToWorld: rig.cameraToWorld };
  const images = [1, 2].map((s) => tf.randomUniform([1, H, W, 3], 0, 1, 'float32', s));
  const { kernels } = await recordKernelCalls(() =>
    forwardBackward(trainable(model), () => model.forward(images, cameras)),
  );
  tf.dispose(images);
  model.dispose();
  return kernels;
}

async function recordVit(): Promise<RecordedKernel[]> {
  const encoder = createEncoder('dinov3_vitb16');
  const images = tf.randomUniform([1, H, W, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
  const { kernels } = await recordKernelCalls(() =>
    forwardBackward(trainable(encoder), () => encoder.forwardIntermediates(images)),
  );
  images.dispose();
  encoder.dispose();
  return kernels;
}

async function recordHeads(): Promise<RecordedKernel[]> {
  const model = new MultiTaskModel(new TinyEncoder(768), { tasks: datasetTasks('nyud'), cvm: 'none' });
  const trainer = new Trainer(model);
  const labels = tf.tidy(() => ({
    semseg: tf.floor(tf.randomUniform([1, H, W], 0, 40, 'float32', 4)).toInt(),
    depth: tf.randomUniform([1, H, W], 0.5, 5, 'float32', 5),
    normals: tf.div(tf.randomNormal([1, H, W, 3], 0, 1, 'float32', 6), 2),
    edge: tf.floor(tf.randomUniform([1, H, W], 0, 2, 'float32', 7)).toInt(),
  }));
  const images = [tf.randomUniform([1, H, W, 3], 0, 1, 'float32', 8)];
  const { kernels } = await recordKernelCalls(() => trainer.step({ images, labels }));
  tf.dispose([...images, ...Object.values(labels)]);
  trainer.dispose();
  model.dispose();
  return kernels;
}

interface Row extends RecordedKernel {
  id: string;
  models: string[];
  wasmMs?: number;
  torchMs?: number | null;
  torchNote?: string;
}

function torchTimes(rows: Row[]): { threads: number; torch: string } | null {
  const dir = mkdtempSync(join(tmpdir(), 'cvm-kernels-'));
  try {
    const file = join(dir, 'calls.json');
    writeFileSync(
      file,
      JSON.stringify(rows.map(({ id, kernel, inputs, attrs }) => ({ id, kernel, inputs, attrs }))),
    );
    const script = join(dirname(fileURLToPath(import.meta.url)), 'kernels_torch.py');
    const out = JSON.parse(
      execFileSync('/usr/bin/python3', [script, file, String(threads), String(budgetMs)], {
        encoding: 'utf8',
        maxBuffer: 1 << 26,
      }),
    ) as {
      threads: number;
      torch: string;
      results: Record<string, { ms: number | null; note?: string }>;
    };
    for (const r of rows) {
      r.torchMs = out.results[r.id]?.ms ?? null;
      r.torchNote = out.results[r.id]?.note;
    }
    return { threads: out.threads, torch: out.torch };
  } catch (err) {
    log(`PyTorch: skipped (${(err as Error).message.split('\n')[0]})`);
    return null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const fmt = (ms: number | null | undefined) => (ms == null ? '—' : ms < 10 ? ms.toFixed(3) : ms.toFixed(1));
const ratioOf = (a?: number, b?: number | null) => (a !== undefined && b ? a / b : undefined);
const describeInputs = (r: RecordedKernel) => r.inputs.map((i) => `[${i.shape}]`).join(' ');

async function main(): Promise<void> {
  const choice = await selectBackend(['wasm'], { threads });
  const actualThreads = await wasmThreadsCount();
  log(choice.why);
  log(`models at ${H}×${W}: ${models.join(', ')}; PyTorch on ${threads} thread(s)`);
  const recorders: Record<string, () => Promise<RecordedKernel[]>> = {
    cvm: recordCvm,
    vit: recordVit,
    heads: recordHeads,
  };
  const byKey = new Map<string, Row>();
  const modelMs: Record<string, number> = {};
  for (const name of models) {
    const record = recorders[name];
    if (!record) throw new Error(`--models: unknown model '${name}' (cvm, vit, heads)`);
    const t0 = performance.now();
    const kernels = await record();
    modelMs[name] = kernels.reduce((s, k) => s + k.ms, 0);
    log(
      `${name}: forward + backward recorded in ${((performance.now() - t0) / 1000).toFixed(1)} s, ${kernels.length} distinct kernel calls, ${(modelMs[name]! / 1000).toFixed(1)} s in kernels`,
    );
    for (const k of kernels) {
      const row = byKey.get(k.key);
      if (row) {
        row.calls += k.calls;
        row.ms += k.ms;
        row.models.push(name);
      } else byKey.set(k.key, { ...k, id: String(byKey.size), models: [name] });
    }
  }
  const rows = [...byKey.values()].sort((a, b) => b.ms - a.ms);
  const totalMs = rows.reduce((s, r) => s + r.ms, 0);

  log(`timing ${rows.length} distinct calls alone on wasm ...`);
  for (const r of rows) r.wasmMs = timeKernelCall(r, { budgetMs });
  log('timing their PyTorch counterparts ...');
  const torch = torchTimes(rows);

  // Per kernel: shares of the recorded time; wasm over all calls (calls × time alone), and the ratio
  // over the calls that have a PyTorch counterpart.
  const perKernel = new Map<
    string,
    {
      kernel: string;
      ms: number;
      calls: number;
      wasm: number;
      mapped: number;
      torch: number;
      unmapped: number;
    }
  >();
  for (const r of rows) {
    const k = perKernel.get(r.kernel) ?? {
      kernel: r.kernel,
      ms: 0,
      calls: 0,
      wasm: 0,
      mapped: 0,
      torch: 0,
      unmapped: 0,
    };
    k.ms += r.ms;
    k.calls += r.calls;
    k.wasm += r.calls * r.wasmMs!;
    if (r.torchMs != null) {
      k.mapped += r.calls * r.wasmMs!;
      k.torch += r.calls * r.torchMs;
    } else k.unmapped += r.ms;
    perKernel.set(r.kernel, k);
  }
  const kernels = [...perKernel.values()].sort((a, b) => b.ms - a.ms);

  log(
    `\nper kernel (share of ${(totalMs / 1000).toFixed(1)} s recorded in kernels; wasm and PyTorch: calls × time alone, ${actualThreads} thread(s) each; ratio over the calls with a PyTorch counterpart)`,
  );
  log('kernel                    share   calls     wasm ms  PyTorch ms   ratio');
  for (const k of kernels) {
    const ratio = ratioOf(k.mapped, k.torch);
    log(
      `${k.kernel.padEnd(24)} ${((100 * k.ms) / totalMs).toFixed(1).padStart(6)}% ${String(k.calls).padStart(7)} ${fmt(k.wasm).padStart(11)} ${fmt(k.torch || null).padStart(11)} ${(ratio ? `${ratio.toFixed(2)}×` : '—').padStart(7)}${ratio && ratio > LIMIT ? '  > 2×' : ''}${k.unmapped > 0 ? `  (${((100 * k.unmapped) / k.ms).toFixed(0)}% without counterpart)` : ''}`,
    );
  }

  const top = rows.filter((r) => r.ms / totalMs >= 0.002);
  log(`\nper call, ≥ 0.2% of the recorded time (${top.length} of ${rows.length}); ms per call`);
  log('share   calls  wasm ms  PyTorch ms  ratio   kernel  inputs  attrs  (models)');
  for (const r of top) {
    const ratio = ratioOf(r.wasmMs, r.torchMs);
    log(
      `${((100 * r.ms) / totalMs).toFixed(1).padStart(5)}% ${String(r.calls).padStart(6)} ${fmt(r.wasmMs).padStart(8)} ${fmt(r.torchMs).padStart(11)} ${(ratio ? `${ratio.toFixed(2)}×` : '—').padStart(6)}${ratio && ratio > LIMIT ? '!' : ' '} ${r.kernel} ${describeInputs(r)} ${JSON.stringify(r.attrs)} (${r.models.join(',')})${r.torchNote ? ` — ${r.torchNote}` : ''}`,
    );
  }
  let scaling: { kernel: string; inputs: string; one: number; many: number }[] = [];
  if (flag('scaling') && actualThreads > 1) {
    const heads = rows.slice(0, 12);
    const timeAll = async (n: number) => {
      tf.removeBackend('wasm');
      await selectBackend(['wasm'], { threads: n });
      return heads.map((r) => timeKernelCall(r, { budgetMs }));
    };
    // Alternating rounds, medians per call: the load of a shared machine drifts within seconds.
    const rounds: { one: number[]; many: number[] }[] = [];
    for (let round = 0; round < 3; round++) {
      rounds.push({ one: await timeAll(1), many: await timeAll(actualThreads) });
    }
    const one = heads.map((_, i) => median(rounds.map((r) => r.one[i]!)));
    const many = heads.map((_, i) => median(rounds.map((r) => r.many[i]!)));
    scaling = heads.map((r, i) => ({
      kernel: r.kernel,
      inputs: describeInputs(r),
      one: one[i]!,
      many: many[i]!,
    }));
    log(
      `\nthread scaling of the top calls (ms per call, medians of 3 alternating rounds of 1 and ${actualThreads} threads)`,
    );
    for (const c of scaling) {
      log(
        `${fmt(c.one).padStart(9)} ${fmt(c.many).padStart(9)} ${(c.one / c.many).toFixed(2).padStart(5)}×  ${c.kernel} ${c.inputs}`,
      );
    }
  }
  const slow = kernels.filter((k) => (ratioOf(k.mapped, k.torch) ?? 0) > LIMIT);
  log(
    `\nkernels slower than ${LIMIT}× PyTorch overall: ${slow.map((k) => `${k.kernel} (${ratioOf(k.mapped, k.torch)!.toFixed(1)}×)`).join(', ') || 'none'}`,
  );
  log(`kernels the models ran: ${[...perKernel.keys()].sort().join(', ')}`);
  if (json) {
    console.log(
      JSON.stringify({
        size: [H, W],
        threads: actualThreads,
        torch,
        modelMs,
        kernels,
        scaling,
        calls: rows.map(({ key: _key, ...r }) => r),
      }),
    );
  }
  tf.removeBackend('wasm'); // ends the pthread workers
}

await main();
