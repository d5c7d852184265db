// WebGPU (Dawn in Node) must be set up before tfjs ops run on it.
import { useWebGPUForTests } from '@cvm/backend';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { expectClose, finiteDifferenceGradient, seededUniform } from '@cvm/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { type GridSampleOptions, gridSample } from '../src/index.js';
import { checkAgainstFixture, fixtureCases } from './grid-sample-fixtures.js';

// Top-level await: the suites below are skipped (locally, never under CI) without an adapter.
const available = await useWebGPUForTests();
tf.env().set('IS_TEST', true);

afterAll(() => {
  // Dawn keeps the Node process alive while the device and navigator.gpu are referenced.
  if (tf.findBackend('webgpu')) tf.removeBackend('webgpu');
  delete (globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu;
});

describe.runIf(available)('gridSample webgpu kernels vs PyTorch', () => {
  it.each(fixtureCases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    expect(tf.getBackend()).toBe('webgpu');
    await checkAgainstFixture(c, 'kernel');
  });
});

describe.runIf(available)('gridSample webgpu', () => {
  it('uses its own kernel by default', async () => {
    const x = seededUniform([1, 3, 4, 2], 3);
    const grid = seededUniform([1, 2, 2, 2], 4, -1.2, 1.2);
    const info = await tf.profile(() => gridSample(x as tf.Tensor4D, grid as tf.Tensor4D));
    expect(info.kernelNames).toEqual(['CvmGridSample']);
    tf.dispose([x, grid]);
  });

  // Forward, dx and dgrid for x, grid, dy on the active backend.
  const forwardBackward = async (
    x: tf.Tensor,
    grid: tf.Tensor,
    dy: tf.Tensor,
    options: GridSampleOptions,
  ): Promise<Float32Array[]> => {
    const r = tf.tidy(() => {
      const f = (a: tf.Tensor, g: tf.Tensor) => gridSample(a as tf.Tensor4D, g as tf.Tensor4D, options);
      return [
        f(x, grid),
        ...tf.grads((a: tf.Tensor, g: tf.Tensor) => tf.sum(tf.mul(f(a, g), dy)))([x, grid]),
      ];
    });
    const data = (await Promise.all(r.map((t) => t.data()))) as Float32Array[];
    tf.dispose(r);
    return data;
  };

  it('agrees with the cpu kernel on a larger case with many scatter collisions', async () => {
    // 40x48 samples of a 5x6 map: ~64 samples per source pixel, so the float atomic adds collide.
    // Host data, so that each backend gets its own tensors (moving webgpu data to cpu needs readSync).
    const host = async (t: tf.Tensor) => {
      const v = (await t.data()) as Float32Array;
      t.dispose();
      return v;
    };
    const xv = await host(seededUniform([2, 5, 6, 3], 31));
    const gv = await host(seededUniform([2, 40, 48, 2], 32, -1.2, 1.2));
    const dv = await host(seededUniform([2, 40, 48, 3], 33));
    const run = async (options: GridSampleOptions) => {
      const [x, grid, dy] = [
        tf.tensor(xv, [2, 5, 6, 3]),
        tf.tensor(gv, [2, 40, 48, 2]),
        tf.tensor(dv, [2, 40, 48, 3]),
      ];
      const r = await forwardBackward(x, grid, dy, options);
      tf.dispose([x, grid, dy]);
      return r;
    };
    for (const mode of ['bilinear', 'nearest'] as const)
      for (const paddingMode of ['zeros', 'border', 'reflection'] as const)
        for (const alignCorners of [false, true]) {
          const options = { mode, paddingMode, alignCorners };
          const gpu = await run(options);
          await tf.setBackend('cpu');
          const cpu = await run(options);
          await tf.setBackend('webgpu');
          expectClose(gpu[0], cpu[0], { atol: 1e-5 });
          expectClose(gpu[1], cpu[1], { atol: 1e-3, rtol: 1e-4 }); // sums of ~200 terms in any order
          expectClose(gpu[2], cpu[2], { atol: 1e-4 });
          expect(Math.max(...gpu[1].map(Math.abs))).toBeGreaterThan(1);
        }
  });

  it('the composite also runs on webgpu (bilinear, zeros, alignCorners: the cost-volume case)', async () => {
    const x = seededUniform([1, 4, 5, 2], 51);
    const grid = seededUniform([1, 3, 4, 2], 52, -1.2, 1.2);
    const dy = seededUniform([1, 3, 4, 2], 53);
    const options: GridSampleOptions = { paddingMode: 'zeros', alignCorners: true };
    const kernel = await forwardBackward(x, grid, dy, options);
    const composite = await forwardBackward(x, grid, dy, { ...options, implementation: 'composite' });
    for (let i = 0; i < 3; i++) expectClose(composite[i], kernel[i], { atol: 1e-5 });
    tf.dispose([x, grid, dy]);
  });

  it('grid gradient matches finite differences', async () => {
    const x = seededUniform([1, 4, 5, 2], 41);
    // Source positions at fractions 0.3 / 0.6 of a pixel, away from kinks.
    const grid = tf.tensor4d([-0.62, 0.11, 0.33, -0.41, 0.71, 0.52, -0.18, -0.83], [1, 2, 2, 2]);
    const weights = seededUniform([1, 2, 2, 2], 42);
    const options = { paddingMode: 'reflection' as const, alignCorners: false };
    const [dgrid] = tf.grads((g: tf.Tensor) =>
      tf.sum(tf.mul(gridSample(x as tf.Tensor4D, g as tf.Tensor4D, options), weights)),
    )([grid]);
    const numeric = await finiteDifferenceGradient(
      (g) => gridSample(x as tf.Tensor4D, g as tf.Tensor4D, options),
      grid,
      weights,
      1e-3,
    );
    expectClose(await dgrid.data(), numeric, { atol: 3e-3, rtol: 3e-3 });
    tf.dispose([x, grid, weights, dgrid]);
  });

  it('handles NaN and infinite grid values like the cpu kernel', async () => {
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
    const grid = tf.tensor4d(
      [Number.NaN, 0.3, Number.POSITIVE_INFINITY, 0.3, -0.2, Number.NEGATIVE_INFINITY, 1e30, 0.2],
      [1, 2, 2, 2],
    );
    for (const paddingMode of ['zeros', 'border', 'reflection'] as const) {
      const out = gridSample(x, grid, { paddingMode, alignCorners: true });
      const values = Array.from(await out.data());
      // zeros / reflection: all nowhere; border: NaN → 0, +inf → right column (x=1, y=0.3 → row 1.3),
      // -inf on y → top row at column 0.8, 1e30 → right column at row 1.2.
      const expected = paddingMode === 'border' ? [0, 6 + 0.3 * 3, 1.8, 6 + 0.2 * 3] : [0, 0, 0, 0];
      expectClose(values, expected, { atol: 1e-5 });
      out.dispose();
    }
    tf.dispose([x, grid]);
  });
});
