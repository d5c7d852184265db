/**
 * `pnpm --filter @cvm/cvm-module bench [--json] [--runs N=1] [--backends cpu,webgpu] [--size 448x576]`
 *
 * The paper's setting (Tab. A16): 448×576 input, 2 views, batch 1, the default (paper-size) CvM.
 * Prints the parameter count per part, the analytic MACs/FLOPs per part (`estimateMacs`; FLOPs = 2 ×
 * MACs; convs, linears, attention matmuls, cost-volume gathers + correlations, convex combination;
 * norms/activations/softmax not counted), and per backend the time of a first forward, the
 * median of N further forwards and the peak extra memory of the first forward (cpu: tf.profile's peak of
 * live tensor bytes; webgpu: growth of the GPU buffer pool, see `benchOne`).
 */
import { type BackendName, selectBackend } from '@cvm/backend';
// The union package registers the cpu backend and every stock gradient (tfjs-core alone has none).
import '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs-core';
import { activeBackends, benchArgs, handheldTwoViewRig, median, timeOnce } from '@cvm/test-utils/bench';
import { CrossViewModule, estimateMacs } from '../src/index.js';

const { option, json, log } = benchArgs();
const runs = Number(option('runs', '1'));
const backends = option('backends', 'cpu,webgpu').split(',');
const [H, W] = option('size', '448x576').split('x').map(Number);

const rig = handheldTwoViewRig(H, W);
const cameras = { intrinsics: [rig.intrinsics, rig.intrinsics], cameraToWorld: rig.cameraToWorld };

/** `tf.memory()`; the WebGPU backend adds the bytes its buffer pool holds. */
type BackendMemory = tf.MemoryInfo & { numBytesAllocatedInGPU?: number };

interface Row {
  backend: string;
  firstSeconds: number;
  forwardSeconds: number;
  peakExtraMiB: number;
  runs: number;
}

async function benchOne(backend: string, model: CrossViewModule): Promise<Row> {
  const images = [
    tf.randomUniform([1, H, W, 3], 0, 1, 'float32', 1),
    tf.randomUniform([1, H, W, 3], 0, 1, 'float32', 2),
  ];
  const forward = async () => {
    const out = model.forward(images, cameras);
    await Promise.all(out.map((t) => t.data()));
    tf.dispose(out);
  };
  // The first forward is timed on its own (on WebGPU it compiles the shaders); the median of further
  // runs excludes it. Peak memory: off WebGPU, tf.profile's peak of live tensor bytes during that forward.
  // tf.profile times every kernel and reads back every output, which on WebGPU costs far more than the
  // forward itself, so there the peak is the growth of the backend's GPU buffer pool instead (freed
  // buffers stay pooled, so after the forward it holds the high-water mark of buffer bytes).
  const profiled = tf.getBackend() !== 'webgpu';
  const before = tf.memory() as BackendMemory;
  const t0 = performance.now();
  let peakBytes: number;
  if (profiled) {
    const info = await tf.profile(forward);
    peakBytes = info.peakBytes - before.numBytes;
  } else {
    await forward();
    const after = tf.memory() as BackendMemory;
    peakBytes = (after.numBytesAllocatedInGPU ?? Number.NaN) - (before.numBytesAllocatedInGPU ?? 0);
  }
  const firstSeconds = (performance.now() - t0) / 1000;
  const peakKind = profiled ? 'peak extra tensor bytes' : 'GPU buffer pool growth';
  log(
    `  ${backend}: first forward ${firstSeconds.toFixed(2)} s, ${peakKind} ${(peakBytes / 2 ** 20).toFixed(1)} MiB`,
  );
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    times.push(await timeOnce(forward));
    log(`  ${backend}: run ${i + 1}/${runs} ${times[i].toFixed(2)} s`);
  }
  tf.dispose(images);
  return {
    backend,
    firstSeconds,
    forwardSeconds: times.length ? median(times) : firstSeconds,
    peakExtraMiB: peakBytes / 2 ** 20,
    runs,
  };
}

async function main() {
  const model = new CrossViewModule();
  const parts: Record<string, number> = {};
  for (const [name, v] of model.namedParameters()) {
    const part = name.slice(0, name.indexOf('.'));
    parts[part] = (parts[part] ?? 0) + v.size;
  }
  const macs = estimateMacs(model, { height: H, width: W, views: 2 });
  log(
    `CvM at ${H}x${W}, 2 views, batch 1, L = ${model.depthRange.count}, ${model.transformer.numLayers} blocks`,
  );
  log('\npart          parameters    GMACs   GFLOPs');
  for (const part of ['backbone', 'transformer', 'adapter', 'upsampler', 'costVolume'] as const) {
    const p = parts[part] ?? 0;
    const m = macs[part];
    log(
      `${part.padEnd(12)} ${String(p).padStart(11)} ${(m / 1e9).toFixed(2).padStart(8)} ${((2 * m) / 1e9).toFixed(2).padStart(8)}`,
    );
  }
  log(
    `${'total'.padEnd(12)} ${String(model.numParameters()).padStart(11)} ${(macs.total / 1e9).toFixed(2).padStart(8)} ${((2 * macs.total) / 1e9).toFixed(2).padStart(8)}  (${((2 * macs.total) / 1e12).toFixed(3)} TFLOPs; paper: ~5 M, 0.27 TFLOPs)`,
  );

  const rows: Row[] = [];
  // Dawn for webgpu in Node, the backend package's import, tf.setBackend: @cvm/backend does all three.
  for await (const backend of activeBackends<BackendName>(backends, (b) => selectBackend([b]), log)) {
    log(`\nrunning ${backend} ...`);
    rows.push(await benchOne(backend, model));
  }
  const result = { size: { height: H, width: W, views: 2 }, parameters: parts, macs, rows };
  if (json) console.log(JSON.stringify(result));
  else {
    console.log('\nbackend   first(s)  forward(s)  peak extra (MiB)');
    for (const r of rows) {
      console.log(
        `${r.backend.padEnd(8)} ${r.firstSeconds.toFixed(2).padStart(9)} ${r.forwardSeconds.toFixed(2).padStart(11)}  ${r.peakExtraMiB.toFixed(1).padStart(15)}`,
      );
    }
  }
  model.dispose();
  // Dawn keeps the process alive while navigator.gpu is referenced.
  process.exit(0);
}

await main();
