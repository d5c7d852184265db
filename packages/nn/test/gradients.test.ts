import '@tensorflow/tfjs-backend-cpu';
import { expectClose, expectNoLeaks, finiteDifferenceGradient, seededUniform } from '@cvm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type Conv2dOptions,
  conv2d,
  gelu,
  instanceNorm,
  layerNorm,
  roll,
  windowPartition,
} from '../src/index.js';
import { TinyNet } from './tiny-net.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
  tf.env().set('IS_TEST', true);
});

/** Checks tf.grads of sum(f(a, b) * w) against central differences in a and b. */
async function checkGrads(
  f: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor,
  a: tf.Tensor,
  b: tf.Tensor,
  tol: { atol: number; rtol: number },
  step = 1e-2,
): Promise<void> {
  const out = f(a, b);
  const w = seededUniform(out.shape, 99);
  const [ga, gb] = await expectNoLeaks(() =>
    tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(f(x, y), w)))([a, b]),
  );
  const fa = await finiteDifferenceGradient((x) => f(x, b), a, w, step);
  const fb = await finiteDifferenceGradient((y) => f(a, y), b, w, step);
  expectClose(await ga.data(), fa, tol);
  expectClose(await gb.data(), fb, tol);
  tf.dispose([out, w, ga, gb]);
}

describe('gradients match finite differences', () => {
  const convCases: [string, number[], number[], Conv2dOptions][] = [
    ['stride 2, padding 1', [1, 6, 7, 3], [3, 3, 3, 4], { stride: 2, padding: 1 }],
    // stride 1 on cpu: tfjs's input gradient and the im2col matMul weight gradient
    ['stride 1, padding 1 (im2col weight gradient)', [2, 5, 6, 3], [3, 3, 3, 4], { padding: 1 }],
    ['1x1, batch 2', [2, 4, 3, 5], [1, 1, 5, 2], {}],
    ['stride 1, dilation 2', [1, 7, 7, 2], [3, 3, 2, 3], { padding: 2, dilation: 2 }],
    ['dilation 2 with stride 2', [1, 9, 8, 2], [3, 3, 2, 3], { stride: 2, padding: 2, dilation: 2 }],
    ['groups 2', [1, 5, 5, 4], [3, 3, 2, 4], { padding: 1, groups: 2 }],
    ['depthwise, dilation 2', [1, 7, 6, 3], [3, 3, 1, 6], { padding: 1, dilation: [2, 1], groups: 3 }],
  ];
  for (const [name, xs, ws, options] of convCases) {
    it(`conv2d ${name} (input and weight)`, async () => {
      const x = seededUniform(xs, 1);
      const w = seededUniform(ws, 2);
      await checkGrads((a, b) => conv2d(a, b, null, options), x, w, { atol: 2e-3, rtol: 1e-3 });
      tf.dispose([x, w]);
    });
  }

  it('conv2d bias', async () => {
    const x = seededUniform([1, 5, 5, 2], 3);
    const w = seededUniform([3, 3, 2, 3], 4);
    const b = seededUniform([3], 5);
    await checkGrads((a, bias) => conv2d(a, w, bias, { stride: 2, padding: 1 }), x, b, {
      atol: 2e-3,
      rtol: 1e-3,
    });
    tf.dispose([x, w, b]);
  });

  it('layerNorm (input, weight; bias through the same path)', async () => {
    const x = seededUniform([2, 3, 6], 6, -2, 2);
    const g = seededUniform([6], 7, 0.5, 1.5);
    const b = seededUniform([6], 8);
    await checkGrads((a, weight) => layerNorm(a, weight, b), x, g, { atol: 5e-3, rtol: 5e-3 });
    await checkGrads((a, bias) => layerNorm(a, g, bias), x, b, { atol: 5e-3, rtol: 5e-3 });
    tf.dispose([x, g, b]);
  });

  it('instanceNorm and gelu (input)', async () => {
    const x = seededUniform([1, 4, 3, 2], 9, -2, 2);
    const s = seededUniform([2], 10, 0.5, 1.5);
    await checkGrads((a, scale) => gelu(tf.mul(instanceNorm(a), scale)), x, s, { atol: 5e-3, rtol: 5e-3 });
    tf.dispose([x, s]);
  });

  it('roll and windowPartition pass gradients through unchanged positions', async () => {
    const x = seededUniform([1, 4, 6, 2], 11);
    const y = seededUniform([1, 4, 6, 2], 12);
    await checkGrads((a, b) => windowPartition(roll(tf.mul(a, b), [-1, 2], [1, 2]), 2), x, y, {
      atol: 2e-3,
      rtol: 1e-3,
    });
    tf.dispose([x, y]);
  });
});

describe('every parameter of a model receives a gradient', () => {
  it('TinyNet: non-zero, finite gradients for all parameters, no leaks', async () => {
    const net = new TinyNet();
    const x = seededUniform([2, 6, 8, 3], 13);
    const target = seededUniform([2, 12, 4], 14);
    const { value, grads } = await expectNoLeaks(() =>
      tf.variableGrads(
        () => tf.mean(tf.square(tf.sub(net.forward(x), target))) as tf.Scalar,
        net.parameters(),
      ),
    );
    for (const [name, v] of net.namedParameters()) {
      const g = grads[v.name];
      expect(g, name).toBeDefined();
      expect(g.shape, name).toEqual(v.shape);
      const data = await g.data();
      expect(data.every(Number.isFinite), name).toBe(true);
      expect(Math.max(...data.map(Math.abs)), name).toBeGreaterThan(0);
    }
    tf.dispose([value, x, target, ...Object.values(grads)]);
    net.dispose();
  });
});
