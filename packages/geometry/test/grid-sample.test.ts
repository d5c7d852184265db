import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import * as tf from '@tensorflow/tfjs-core';
import { expectClose, expectNoLeaks, finiteDifferenceGradient, seededUniform } from '@cvm/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { gridSample, gridSampleInputGrad } from '../src/index.js';
import { checkAgainstFixture, fixtureCases } from './grid-sample-fixtures.js';

beforeAll(async () => {
  tf.env().set('IS_TEST', true);
  await tf.setBackend('cpu');
});

describe('gridSample composite (forced, cpu backend) vs PyTorch', () => {
  it.each(fixtureCases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    await checkAgainstFixture(c, 'composite');
  });
});

describe('gridSample cpu kernel vs PyTorch', () => {
  it.each(fixtureCases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    await checkAgainstFixture(c, 'kernel');
  });
});

const IMPLEMENTATIONS = ['kernel', 'composite'] as const;
const PADDINGS = ['zeros', 'border', 'reflection'] as const;

/**
 * Grid whose source coordinates sit well inside pixel cells (fractions in [0.15, 0.35] ∪ [0.65, 0.85])
 * and away from the borders' clip and fold points, so that finite differences see a smooth function.
 */
function smoothGrid(
  b: number,
  ho: number,
  wo: number,
  h: number,
  w: number,
  alignCorners: boolean,
  seed: number,
) {
  const u = seededUniform([b, ho, wo, 2], seed, 0, 1);
  const v = u.dataSync();
  u.dispose();
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const size = i % 2 === 0 ? w : h;
    // A cell in [-1, size) (partly outside the image), then a fraction away from 0, 0.5 and 1.
    const cell = Math.floor(v[i] * (size + 1)) - 1;
    const frac =
      (i * 0.37) % 1 < 0.5 ? 0.15 + 0.2 * v[(i + 1) % v.length] : 0.65 + 0.2 * v[(i + 1) % v.length];
    const pix = cell + frac;
    out[i] = alignCorners ? (2 * pix) / (size - 1) - 1 : (2 * pix + 1) / size - 1;
  }
  return tf.tensor4d(out, [b, ho, wo, 2]);
}

describe('gridSample gradients vs finite differences (bilinear, non-integer positions)', () => {
  for (const implementation of IMPLEMENTATIONS)
    for (const paddingMode of PADDINGS)
      for (const alignCorners of [false, true])
        it(`${implementation} ${paddingMode} alignCorners=${alignCorners}`, async () => {
          const x = seededUniform([2, 4, 5, 3], 7);
          const grid = smoothGrid(2, 2, 3, 4, 5, alignCorners, 11 + Number(alignCorners));
          const weights = seededUniform([2, 2, 3, 3], 13);
          const options = { paddingMode, alignCorners, implementation };
          const [dx, dgrid] = tf.grads((a: tf.Tensor, g: tf.Tensor) =>
            tf.sum(tf.mul(gridSample(a as tf.Tensor4D, g as tf.Tensor4D, options), weights)),
          )([x, grid]);
          const numGrid = await finiteDifferenceGradient(
            (g) => gridSample(x as tf.Tensor4D, g as tf.Tensor4D, options),
            grid,
            weights,
            1e-3,
          );
          const numX = await finiteDifferenceGradient(
            (a) => gridSample(a as tf.Tensor4D, grid, options),
            x,
            weights,
            1e-2,
          );
          const analyticGrid = await dgrid.data();
          expectClose(analyticGrid, numGrid, { atol: 2e-3, rtol: 2e-3 });
          expectClose(await dx.data(), numX, { atol: 1e-3 });
          // Not vacuous: some grid gradients are clearly non-zero.
          expect(Math.max(...Array.from(analyticGrid, Math.abs))).toBeGreaterThan(0.1);
          tf.dispose([x, grid, weights, dx, dgrid]);
        });
});

describe('gridSample with NaN, infinite and huge grid values', () => {
  for (const implementation of IMPLEMENTATIONS)
    for (const mode of ['bilinear', 'nearest'] as const)
      for (const paddingMode of PADDINGS)
        it(`${implementation} ${mode} ${paddingMode}`, async () => {
          const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
          const bad = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e30, -1e30];
          // Each bad value on x (y = 0.3) and on y (x = -0.2).
          const gridValues = [...bad.flatMap((v) => [v, 0.3]), ...bad.flatMap((v) => [-0.2, v])];
          const grid = tf.tensor4d(gridValues, [1, 2, 5, 2]);
          const options = { mode, paddingMode, alignCorners: true, implementation };
          const out = await expectNoLeaks(() => {
            const [o, dx, dgrid] = tf.tidy(() => {
              const f = (a: tf.Tensor, g: tf.Tensor) =>
                gridSample(a as tf.Tensor4D, g as tf.Tensor4D, options);
              const grads = tf.grads((a: tf.Tensor, g: tf.Tensor) => tf.sum(f(a, g)))([x, grid]);
              return [f(x, grid), ...grads];
            });
            return Promise.all([o.data(), dx.data(), dgrid.data()]).then((r) => {
              tf.dispose([o, dx, dgrid]);
              return r;
            });
          });
          const [o, dx, dgrid] = out;
          // Border: ±inf and ±1e30 clamp to the edge, i.e. sample as ±1 would; everything else reads 0.
          const edge = (v: number) => (v > 0 ? 1 : -1);
          const asEdge = gridValues.map((v) => (Number.isFinite(v) && Math.abs(v) < 2 ? v : edge(v)));
          const g1 = tf.tensor4d(asEdge, [1, 2, 5, 2]);
          const edgeOut = gridSample(x, g1, options);
          const expected = Array.from(await edgeOut.data(), (v, i) => {
            const raw = gridValues[2 * i] === -0.2 ? gridValues[2 * i + 1] : gridValues[2 * i];
            return paddingMode === 'border' && !Number.isNaN(raw) ? v : 0;
          });
          tf.dispose([g1, edgeOut, x, grid]);
          expect(Array.from(o)).toEqual(expected);
          expect(expected.some((v) => v !== 0)).toBe(paddingMode === 'border');
          // The bad component never gets a gradient; with zeros/reflection the whole sample is gone.
          gridValues.forEach((v, i) => {
            if (bad.includes(v) || paddingMode !== 'border' || mode === 'nearest')
              expect(Math.abs(dgrid[i])).toBe(0);
            else expect(Number.isFinite(dgrid[i])).toBe(true);
          });
          expect(Array.from(dx).every((v) => Number.isFinite(v))).toBe(true);
          expect(Array.from(dx).reduce((s, v) => s + v, 0)).toBeCloseTo(paddingMode === 'border' ? 8 : 0, 4);
        });
});

describe('gridSample implementation choice', () => {
  it('uses the cpu kernel by default and stock ops when forced to the composite', async () => {
    const x = seededUniform([1, 3, 4, 2], 3);
    const grid = seededUniform([1, 2, 2, 2], 4, -1.2, 1.2);
    const kernels = async (implementation: 'auto' | 'composite') =>
      (await tf.profile(() => gridSample(x as tf.Tensor4D, grid as tf.Tensor4D, { implementation })))
        .kernelNames;
    expect(await kernels('auto')).toEqual(['CvmGridSample']);
    const composite = await kernels('composite');
    expect(composite).not.toContain('CvmGridSample');
    expect(composite).toContain('GatherV2');
    tf.dispose([x, grid]);
  });

  it('kernel and composite agree on a larger case, forward and backward', async () => {
    const x = seededUniform([2, 7, 9, 5], 21);
    const grid = seededUniform([2, 6, 8, 2], 22, -1.4, 1.4);
    const dy = seededUniform([2, 6, 8, 5], 23);
    for (const mode of ['bilinear', 'nearest'] as const)
      for (const paddingMode of PADDINGS) {
        const run = (implementation: 'kernel' | 'composite') =>
          tf.tidy(() => {
            const f = (a: tf.Tensor, g: tf.Tensor) =>
              gridSample(a as tf.Tensor4D, g as tf.Tensor4D, { mode, paddingMode, implementation });
            return [
              f(x, grid),
              ...tf.grads((a: tf.Tensor, g: tf.Tensor) => tf.sum(tf.mul(f(a, g), dy)))([x, grid]),
            ];
          });
        const k = run('kernel');
        const c = run('composite');
        for (let i = 0; i < 3; i++) expectClose(await k[i].data(), await c[i].data(), { atol: 1e-5 });
        tf.dispose([...k, ...c]);
      }
    tf.dispose([x, grid, dy]);
  });
});

describe('gridSampleInputGrad (the transposed sampling, without autodiff)', () => {
  const modes = ['bilinear', 'nearest'] as const;
  const paddings = ['zeros', 'border', 'reflection'] as const;
  for (const mode of modes)
    for (const paddingMode of paddings)
      for (const alignCorners of [true, false]) {
        it(`equals the autodiff input gradient: ${mode}, ${paddingMode}, alignCorners ${alignCorners}`, async () => {
          const x = seededUniform([2, 4, 5, 3], 11) as tf.Tensor4D;
          // Out-of-range, NaN and collisions included.
          const grid = seededUniform([2, 6, 7, 2], 12, -1.4, 1.4);
          const withNaN = tf.where(
            tf.greater(grid, 1.3),
            tf.mul(tf.onesLike(grid), Number.NaN),
            grid,
          ) as tf.Tensor4D;
          const dy = seededUniform([2, 6, 7, 3], 13) as tf.Tensor4D;
          const [expected] = tf.grads((a: tf.Tensor) =>
            tf.sum(tf.mul(gridSample(a as tf.Tensor4D, withNaN, { mode, paddingMode, alignCorners }), dy)),
          )([x]);
          for (const implementation of ['kernel', 'composite'] as const) {
            const options = { mode, paddingMode, alignCorners, implementation };
            const got = await expectNoLeaks(() => gridSampleInputGrad(dy, x, withNaN, options));
            expectClose(await got.data(), await expected.data(), { atol: 1e-5 });
            got.dispose();
          }
          tf.dispose([x, grid, withNaN, dy, expected]);
        });
      }

  it('names bad arguments', () => {
    const dy = tf.zeros([1, 2, 2, 3]) as tf.Tensor4D;
    const x = tf.zeros([1, 4, 4, 3]) as tf.Tensor4D;
    const x5 = tf.zeros([1, 4, 4, 5]) as tf.Tensor4D;
    const grid = tf.zeros([1, 2, 2, 2]) as tf.Tensor4D;
    const grid3 = tf.zeros([1, 2, 2]) as unknown as tf.Tensor4D;
    expect(() => gridSampleInputGrad(dy, x5, grid)).toThrow(/^gridSampleInputGrad: dy must be \[1,2,2,5\]/);
    expect(() => gridSampleInputGrad([1] as unknown as tf.Tensor4D, x, grid)).toThrow(
      /^gridSampleInputGrad: dy must be a float32/,
    );
    expect(() => gridSampleInputGrad(dy, x, grid3)).toThrow(/^gridSample: grid must be rank 4/);
    tf.dispose([dy, x, x5, grid, grid3]);
  });
});

describe('gridSample argument errors', () => {
  const x = tf.zeros([2, 3, 4, 1]) as tf.Tensor4D;
  const grid = tf.zeros([2, 2, 2, 2]) as tf.Tensor4D;
  const cases: [string, () => unknown, RegExp][] = [
    [
      'rank of input',
      () => gridSample(tf.zeros([3, 4, 1]) as never, grid),
      /input must be rank 4 \[B,H,W,C\], got shape \[3,4,1\]/,
    ],
    ['rank of grid', () => gridSample(x, tf.zeros([2, 2, 2]) as never), /grid must be rank 4/],
    [
      'last grid dim',
      () => gridSample(x, tf.zeros([2, 2, 2, 3]) as tf.Tensor4D),
      /grid's last dimension must be 2.*\[2,2,2,3\]/,
    ],
    [
      'batch',
      () => gridSample(x, tf.zeros([1, 2, 2, 2]) as tf.Tensor4D),
      /batch sizes differ: input \[2,3,4,1\], grid \[1,2,2,2\]/,
    ],
    ['empty', () => gridSample(tf.zeros([2, 0, 4, 1]) as tf.Tensor4D, grid), /non-empty spatial/],
    [
      'dtype of input',
      () => gridSample(tf.zeros([2, 3, 4, 1], 'int32') as tf.Tensor4D, grid),
      /input must be float32, got int32/,
    ],
    [
      'dtype of grid',
      () => gridSample(x, tf.zeros([2, 2, 2, 2], 'int32') as tf.Tensor4D),
      /grid must be float32, got int32/,
    ],
    [
      'mode',
      () => gridSample(x, grid, { mode: 'bicubic' as never }),
      /mode must be one of 'bilinear', 'nearest', got "bicubic"/,
    ],
    [
      'paddingMode',
      () => gridSample(x, grid, { paddingMode: 'wrap' as never }),
      /paddingMode must be one of 'zeros', 'border', 'reflection', got "wrap"/,
    ],
    [
      'alignCorners',
      () => gridSample(x, grid, { alignCorners: 1 as never }),
      /alignCorners must be a boolean/,
    ],
    ['input type', () => gridSample([[1]] as never, grid), /input must be a tf.Tensor/],
  ];
  it.each(cases)('names the argument: %s', (_name, call, message) => {
    const before = tf.memory().numTensors;
    expect(call).toThrow(message);
    // Only the tensors made for the call itself may remain (they are not ours to dispose).
    expect(tf.memory().numTensors - before).toBeLessThanOrEqual(1);
  });
});

describe('gridSample memory', () => {
  for (const implementation of ['kernel', 'composite'] as const)
    it(`${implementation}: no leaks for inference, for gradients w.r.t. one input, and under tf.tidy`, async () => {
      const x = seededUniform([1, 4, 5, 3], 61) as tf.Tensor4D;
      const grid = seededUniform([1, 3, 2, 2], 62, -1.3, 1.3) as tf.Tensor4D;
      const options = { implementation };
      await expectNoLeaks(async () => {
        const out = gridSample(x, grid, options);
        const dx = tf.grad((a: tf.Tensor) => tf.sum(gridSample(a as tf.Tensor4D, grid, options)))(x);
        const dgrid = tf.grad((g: tf.Tensor) => tf.sum(gridSample(x, g as tf.Tensor4D, options)))(grid);
        expect(dx.shape).toEqual(x.shape);
        expect(dgrid.shape).toEqual(grid.shape);
        expect(Array.from(await dgrid.data()).some((v) => v !== 0)).toBe(true);
        tf.tidy(() => {
          gridSample(x, grid, { ...options, mode: 'nearest' });
        });
        tf.dispose([out, dx, dgrid]);
      });
      tf.dispose([x, grid]);
    });
});

describe('gridSample with empty tensors', () => {
  type Shape4 = [number, number, number, number];
  const shapes: [Shape4, Shape4][] = [
    [
      [1, 2, 3, 4],
      [1, 0, 3, 2],
    ],
    [
      [1, 2, 3, 0],
      [1, 2, 3, 2],
    ],
  ];
  for (const implementation of ['kernel', 'composite'] as const)
    it.each(shapes)(`${implementation}: input %j, grid %j`, async (xShape, gridShape) => {
      const x = tf.ones(xShape) as tf.Tensor4D;
      const grid = tf.zeros(gridShape) as tf.Tensor4D;
      await expectNoLeaks(async () => {
        const out = gridSample(x, grid, { implementation });
        expect(out.shape).toEqual([...gridShape.slice(0, 3), xShape[3]]);
        const [dx, dgrid] = tf.grads((a: tf.Tensor, g: tf.Tensor) =>
          tf.sum(gridSample(a as tf.Tensor4D, g as tf.Tensor4D, { implementation })),
        )([x, grid]);
        expect(Array.from(await dx.data()).every((v) => v === 0)).toBe(true);
        expect(Array.from(await dgrid.data()).every((v) => v === 0)).toBe(true);
        expect(dgrid.shape).toEqual(gridShape);
        tf.dispose([out, dx, dgrid]);
      });
      tf.dispose([x, grid]);
    });
});
