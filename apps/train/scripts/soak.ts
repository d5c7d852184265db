/**
 * Soak test (not in CI): trains the tiny preset for many steps in one process (with its evaluations,
 * plots and checkpoints) and checks that `tf.memory().numTensors` stays flat and the resident memory
 * bounded. `pnpm --filter train soak [-- --steps 10000 --run-dir /tmp/soak --backend cpu|wasm]`.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { selectBackend } from '@cvm/backend';
import * as tf from '@tensorflow/tfjs-core';
import { resolveConfig } from '../src/config.js';
import { trainRun } from '../src/run.js';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '10000' },
    'run-dir': { type: 'string' },
    every: { type: 'string', default: '100' },
    backend: { type: 'string', default: 'cpu' },
  },
  // pnpm hands over a literal `--` before the flags.
  args: process.argv.slice(2).filter((a, i) => !(i === 0 && a === '--')),
});
const backend = values.backend as string;
if (backend !== 'cpu' && backend !== 'wasm') throw new Error(`--backend: cpu or wasm, got '${backend}'`);
const MAX_RSS_GROWTH_MIB = 256;
const steps = Number(values.steps);
const every = Number(values.every);
const runDir = values['run-dir'] ?? mkdtempSync(join(tmpdir(), 'cvm-soak-'));
const config = resolveConfig(
  'tiny',
  {},
  {
    steps,
    baseline: 'off',
    evalEvery: Math.max(every * 5, 2),
    checkpointEvery: Math.max(every * 5, 2),
    logEvery: every,
    runDir,
    backend,
  },
);
console.log(`backend: ${(await selectBackend([backend])).name}; ${steps} steps in ${runDir}`);
const samples: { step: number; tensors: number; bytesMiB: number; rssMiB: number; heapMiB: number }[] = [];
const started = Date.now();
await trainRun(config, {
  resume: false,
  label: 'soak',
  onStep: (step) => {
    if (step !== 1 && step % every !== 0) return;
    const m = process.memoryUsage();
    const s = {
      step,
      tensors: tf.memory().numTensors,
      bytesMiB: tf.memory().numBytes / 2 ** 20,
      rssMiB: m.rss / 2 ** 20,
      heapMiB: m.heapUsed / 2 ** 20,
    };
    samples.push(s);
    console.log(
      `soak step ${step}: ${s.tensors} tensors (${s.bytesMiB.toFixed(1)} MiB), rss ${s.rssMiB.toFixed(0)} MiB, heap ${s.heapMiB.toFixed(0)} MiB, ${((Date.now() - started) / 1000).toFixed(0)} s`,
    );
  },
});
const first = samples[0];
const last = samples.at(-1)!;
const maxTensors = Math.max(...samples.map((s) => s.tensors));
const warm = samples[Math.min(1, samples.length - 1)];
const rssGrowth = last.rssMiB - warm.rssMiB;
console.log(
  `tensors: first ${first.tensors}, last ${last.tensors}, max ${maxTensors}; rss ${warm.rssMiB.toFixed(0)} -> ${last.rssMiB.toFixed(0)} MiB (max ${Math.max(...samples.map((s) => s.rssMiB)).toFixed(0)})`,
);
if (last.tensors !== first.tensors || maxTensors !== first.tensors) {
  console.error('FAIL: tf.memory().numTensors changed during training');
  process.exit(1);
}
// Resident memory may wander with the allocator; a leak of one batch per step would add gigabytes.
if (rssGrowth > MAX_RSS_GROWTH_MIB) {
  console.error(
    `FAIL: resident memory grew by ${rssGrowth.toFixed(0)} MiB (bound ${MAX_RSS_GROWTH_MIB} MiB)`,
  );
  process.exit(1);
}
console.log(`OK: tf.memory().numTensors flat, resident memory grew ${rssGrowth.toFixed(0)} MiB`);
// The wasm backend's worker threads would keep the process alive.
process.exit(0);
