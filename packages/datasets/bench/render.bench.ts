/**
 * Rendering speed of the synthetic world: views per second on one core (main thread) and with worker
 * threads. `pnpm bench` (add `--json` for machine-readable output).
 */
import { availableParallelism } from 'node:os';
import { SyntheticWorld } from '../src/index.js';
import { DataLoader, renderSamples } from '../src/node.js';

const json = process.argv.includes('--json');
const results: Record<string, number> = {};

for (const [height, width, scenes] of [
  [96, 128, 40],
  [448, 576, 4],
] as const) {
  const world = new SyntheticWorld({ seed: 1, height, width, views: 3, trainScenes: scenes + 5 });
  for (let i = 0; i < 5; i++) world.sample('train', scenes + i); // warm up the JIT
  const start = performance.now();
  for (let i = 0; i < scenes; i++) world.sample('train', i);
  const seconds = (performance.now() - start) / 1000;
  results[`views_per_s_${height}x${width}_1core`] = (scenes * 3) / seconds;
}

const workers = Math.max(1, availableParallelism());
const requests = Array.from({ length: 60 }, (_, index) => ({ split: 'train' as const, index }));
const start = performance.now();
await renderSamples({ seed: 1, views: 3, trainScenes: 60 }, requests, { workers });
results[`views_per_s_96x128_${workers}workers`] = (60 * 3) / ((performance.now() - start) / 1000);

for (const loaderWorkers of [0, workers]) {
  const loader = new DataLoader({
    source: { kind: 'synthetic', world: { seed: 2, views: 3, trainScenes: 48 }, split: 'train' },
    pipeline: { train: true, size: [96, 128] },
    batchSize: 4,
    workers: loaderWorkers,
  });
  const t0 = performance.now();
  let n = 0;
  for await (const batch of loader.epoch(0)) n += batch.size;
  results[`loader_samples_per_s_3views_96x128_${loaderWorkers}workers`] =
    n / ((performance.now() - t0) / 1000);
  await loader.close();
}

if (json) console.log(JSON.stringify(results));
else for (const [k, v] of Object.entries(results)) console.log(`${k.padEnd(36)} ${v.toFixed(1)}`);
