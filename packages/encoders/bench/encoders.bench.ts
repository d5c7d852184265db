/**
 * `pnpm --filter @cvm/encoders bench [--json] [--runs N=1] [--backends wasm,cpu,webgpu]
 *   [--size 112x144] [--models dinov3_vitb16]`
 *
 * Forward time and peak memory of full-size encoders (random weights) per backend, next to the same
 * forward in PyTorch (`bench/torch_vit.py`, run with /usr/bin/python3 when it has torch) in the same run.
 * The default is short (ViT-B/16 at 112×144); the paper's setting is
 * `-- --size 448x576 --models dinov3_vitb16,dinov3_vitl16` (minutes per backend on a CPU).
 * Peak memory: cpu, tf.profile's peak of live tensor bytes; webgpu, growth of the GPU buffer pool;
 * PyTorch, growth of the process's max RSS.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BackendName, selectBackend } from '@cvm/backend';
// The union package registers the cpu backend and every stock gradient (tfjs-core alone has none).
import '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs-core';
import { activeBackends, benchArgs, median, timeOnce } from '@cvm/test-utils/bench';
import { createEncoder, type Encoder, VisionTransformer } from '../src/index.js';

const { option, json, log } = benchArgs();
const runs = Number(option('runs', '1'));
const backends = option('backends', 'wasm,cpu,webgpu').split(',');
const models = option('models', 'dinov3_vitb16').split(',');
const [H, W] = option('size', '112x144').split('x').map(Number);

interface Row {
  model: string;
  backend: string;
  firstSeconds: number;
  forwardSeconds: number;
  peakExtraMiB: number;
}

type BackendMemory = tf.MemoryInfo & { numBytesAllocatedInGPU?: number };

async function benchOne(name: string, backend: string, enc: Encoder): Promise<Row> {
  const images = tf.randomUniform([1, H, W, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
  const forward = async () => {
    const maps = enc.forwardIntermediates(images);
    await Promise.all(maps.map((m) => m.data()));
    tf.dispose(maps);
  };
  const profiled = tf.getBackend() !== 'webgpu';
  const before = tf.memory() as BackendMemory;
  const t0 = performance.now();
  let peakBytes: number;
  if (profiled) {
    peakBytes = (await tf.profile(forward)).peakBytes - before.numBytes;
  } else {
    await forward();
    const after = tf.memory() as BackendMemory;
    peakBytes = (after.numBytesAllocatedInGPU ?? Number.NaN) - (before.numBytesAllocatedInGPU ?? 0);
  }
  const firstSeconds = (performance.now() - t0) / 1000;
  log(`  ${name} ${backend}: first forward ${firstSeconds.toFixed(2)} s`);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await timeOnce(forward));
  images.dispose();
  return {
    model: name,
    backend,
    firstSeconds,
    forwardSeconds: times.length ? median(times) : firstSeconds,
    peakExtraMiB: peakBytes / 2 ** 20,
  };
}

function torchRow(name: string, enc: VisionTransformer): Row | null {
  const python = '/usr/bin/python3';
  if (!existsSync(python)) return null;
  const script = join(dirname(fileURLToPath(import.meta.url)), 'torch_vit.py');
  const c = enc.config;
  try {
    const out = execFileSync(python, [script, ...[c.embedDim, c.depth, c.numHeads, H, W, runs].map(String)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return { model: name, backend: 'pytorch', ...JSON.parse(out.trim().split('\n').pop() as string) };
  } catch (e) {
    log(`  pytorch: skipped (${(e as Error).message.split('\n')[0]})`);
    return null;
  }
}

async function main() {
  const rows: Row[] = [];
  for (const name of models) {
    const t0 = performance.now();
    const enc = createEncoder(name).eval();
    log(
      `${name} at ${H}x${W}: ${enc.numParameters()} parameters (built in ${((performance.now() - t0) / 1000).toFixed(1)} s)`,
    );
    const indented = (message: string) => log(`  ${message}`);
    for await (const backend of activeBackends<BackendName>(backends, (b) => selectBackend([b]), indented)) {
      rows.push(await benchOne(name, backend, enc));
    }
    if (enc instanceof VisionTransformer && enc.family === 'dinov3') {
      const row = torchRow(name, enc);
      if (row) rows.push(row);
    }
    enc.dispose();
  }
  if (json) console.log(JSON.stringify({ size: { height: H, width: W }, rows }));
  else {
    console.log('\nmodel            backend   first(s)  forward(s)  peak extra (MiB)  × PyTorch');
    for (const r of rows) {
      const torch = rows.find((t) => t.model === r.model && t.backend === 'pytorch');
      const ratio = torch && r !== torch ? (r.forwardSeconds / torch.forwardSeconds).toFixed(1) : '';
      console.log(
        `${r.model.padEnd(16)} ${r.backend.padEnd(8)} ${r.firstSeconds.toFixed(2).padStart(9)} ${r.forwardSeconds.toFixed(2).padStart(11)}  ${r.peakExtraMiB.toFixed(1).padStart(15)}  ${ratio.padStart(9)}`,
      );
    }
  }
  process.exit(0);
}

await main();
