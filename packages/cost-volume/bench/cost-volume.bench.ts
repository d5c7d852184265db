import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { writeFileSync } from 'node:fs';
import { relativePose } from '@cvm/geometry';
import { it } from 'vitest';
import { costVolume, costVolumeCpu, costVolumeGradCpu } from '../src/index.js';
import { CAMERAS, INTRINSICS, PAPER, features, paperScene, tf } from './scene.js';

/**
 * The paper's size: 2 views, each once the reference (2 ordered pairs), C = 128, 56×72, L = 128,
 * 0.5–10 m, fx = 65 px, a 0.2 m / 3° handheld motion, pure JS on one core.
 * `pnpm bench` prints the figures; `BENCH_JSON=out.json pnpm bench` also writes them as JSON.
 */

/** Median wall time of `fn` in ms over `runs` runs after `warmup` runs. */
function time(name: string, fn: () => void, runs = 5, warmup = 2): number {
  for (let i = 0; i < warmup; i++) fn();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    ms.push(performance.now() - t0);
  }
  const median = ms.sort((a, b) => a - b)[Math.floor(runs / 2)];
  process.stdout.write(`  ${name.padEnd(44)} ${median.toFixed(1)} ms\n`);
  return median;
}

/** ArrayBuffer bytes allocated by `fn`, outputs included (an upper bound on its peak extra memory). */
function allocatedMiB(fn: () => unknown): number {
  const before = process.memoryUsage().arrayBuffers;
  const keep = fn();
  const after = process.memoryUsage().arrayBuffers;
  void keep;
  return (after - before) / 2 ** 20;
}

it('cost volume at the paper size', async () => {
  await tf.setBackend('cpu');
  const { projections, inverseDepths } = paperScene();
  const f = [features(1), features(2)];
  const sizes = { batch: 1, ...PAPER };
  const dy = features(3).subarray(0, PAPER.height * PAPER.width * PAPER.depths);
  const pairs = [
    [0, 1],
    [1, 0],
  ];
  const figures: Record<string, number> = {};

  figures.kernelForwardMs = time('kernel forward', () => {
    for (const [r, n] of pairs) costVolumeCpu(f[r], f[n], projections[r], inverseDepths, sizes);
  });
  figures.kernelForwardBackwardMs = time('kernel forward + backward', () => {
    for (const [r, n] of pairs) {
      costVolumeCpu(f[r], f[n], projections[r], inverseDepths, sizes);
      costVolumeGradCpu(dy, f[r], f[n], projections[r], inverseDepths, sizes);
    }
  });
  figures.kernelForwardAllocatedMiB = allocatedMiB(() =>
    costVolumeCpu(f[0], f[1], projections[0], inverseDepths, sizes),
  );
  figures.kernelBackwardAllocatedMiB = allocatedMiB(() =>
    costVolumeGradCpu(dy, f[0], f[1], projections[0], inverseDepths, sizes),
  );

  // The public op end to end (camera checks, tensors, tape) with tf.grads.
  const shape: [number, number, number, number] = [1, PAPER.height, PAPER.width, PAPER.channels];
  const views = f.map((v) => tf.tensor4d(v, shape));
  const poses = pairs.map(([r, n]) => relativePose(CAMERAS[r], CAMERAS[n]));
  const cand = Array.from(inverseDepths);
  const opGrads = (implementation: 'fused' | 'composite', depths: number[]) => {
    pairs.forEach(([r, n], i) => {
      const g = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(
          costVolume(a as tf.Tensor4D, [b as tf.Tensor4D], {
            intrinsics: INTRINSICS,
            poses: [poses[i]],
            inverseDepths: depths,
            implementation,
          }),
        ),
      )([views[r], views[n]]);
      tf.dispose(g);
    });
  };
  const opForward = (implementation: 'fused' | 'composite', depths: number[]) => {
    pairs.forEach(([r, n], i) => {
      tf.dispose(
        costVolume(views[r], [views[n]], {
          intrinsics: INTRINSICS,
          poses: [poses[i]],
          inverseDepths: depths,
          implementation,
        }),
      );
    });
  };
  figures.opFusedForwardMs = time('op fused forward', () => opForward('fused', cand));
  figures.opFusedForwardBackwardMs = time('op fused forward + backward', () => opGrads('fused', cand));
  // The composite (stock ops + gridSample's composite) is far slower on cpu: time one chunk of 8 of the
  // 128 candidates for both pairs once and scale by 16. (Its backward at this size takes many minutes on
  // cpu, so it is not timed here; the cpu backend always takes the fused kernel in practice.)
  const some = cand.slice(0, 8);
  figures.opCompositeForwardMsExtrapolated =
    16 * time('op composite forward, 8 candidates', () => opForward('composite', some), 1, 0);
  tf.dispose([...views, ...poses]);

  console.log(
    [
      `cost volume, 2 ordered pairs, C=${PAPER.channels}, ${PAPER.height}x${PAPER.width}, L=${PAPER.depths}:`,
      ...Object.entries(figures).map(([k, v]) => `  ${k.padEnd(44)} ${v.toFixed(1)}`),
    ].join('\n'),
  );
  if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, JSON.stringify(figures, null, 2));
});
