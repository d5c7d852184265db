import '@tensorflow/tfjs-backend-cpu';
import { expectClose, expectNoLeaks, finiteDifferenceGradient, seededUniform } from '@cvm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { depthToNormals, depthToPoints } from '../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const fx = 40;
const fy = 42;
const cx = 7.5;
const cy = 5.5;
const K = [
  [fx, 0, cx],
  [0, fy, cy],
  [0, 0, 1],
];
const H = 12;
const W = 16;

/** Depth of the plane n·X = c seen through K: z = c / (n · K⁻¹[x,y,1]). */
function planeDepth(n: number[], c: number): tf.Tensor4D {
  const v = new Float32Array(H * W);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const ray = [(x - cx) / fx, (y - cy) / fy, 1];
      v[y * W + x] = c / (n[0] * ray[0] + n[1] * ray[1] + n[2] * ray[2]);
    }
  return tf.tensor4d(v, [1, H, W, 1]);
}

describe('depthToPoints', () => {
  it('back-projects with K⁻¹ and the z-depth', async () => {
    const depth = planeDepth([0, 0, 1], 2);
    const p = (await depthToPoints(depth, K).array()) as number[][][][];
    expectClose(p[0][3][10], [((10 - cx) / fx) * 2, ((3 - cy) / fy) * 2, 2], { atol: 1e-6 });
    depth.dispose();
  });
});

describe('depthToNormals', () => {
  it('recovers the normal of tilted planes, facing the camera', async () => {
    for (const nRaw of [
      [0, 0, -1],
      [0.3, -0.2, -1],
      [-0.5, 0.4, -0.8],
    ]) {
      const len = Math.hypot(...nRaw);
      const n = nRaw.map((v) => v / len);
      // Plane n·X = c with c < 0 lies in front of the camera when n faces it (n_z < 0).
      const depth = planeDepth(n, -2);
      const normals = await expectNoLeaks(() => depthToNormals(depth, K));
      const v = (await normals.array()) as number[][][][];
      for (const [y, x] of [
        [0, 0],
        [5, 7],
        [H - 1, W - 1],
      ]) {
        expectClose(v[0][y][x], n, { atol: 1e-4 });
      }
      tf.dispose([depth, normals]);
    }
  });

  it('zeroes normals next to invalid depth and keeps NaN out of the gradient', async () => {
    const depth = tf.tidy(() => {
      const d = planeDepth([0, 0, 1], 2);
      const mask = tf.buffer([1, H, W, 1], 'float32');
      for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) mask.set(1, 0, y, x, 0);
      mask.set(0, 0, 4, 4, 0);
      const holed = tf.mul(d, mask.toTensor());
      return tf.where(
        tf.equal(tf.reshape(tf.range(0, H * W), [1, H, W, 1]), 6 * W + 10),
        tf.fill([1, H, W, 1], Number.NaN),
        holed,
      );
    });
    const v = (await depthToNormals(depth, K).array()) as number[][][][];
    expect(v[0][4][4].map(Math.abs)).toEqual([0, 0, 0]);
    expect(v[0][5][5].map(Math.abs)).toEqual([0, 0, 0]);
    expect(v[0][6][11].map(Math.abs)).toEqual([0, 0, 0]);
    expectClose(v[0][8][8], [0, 0, -1], { atol: 1e-5 });
    const g = tf.grad((d: tf.Tensor) => tf.sum(depthToNormals(d, K)))(depth);
    const gv = await g.data();
    expect(gv.every(Number.isFinite)).toBe(true);
    tf.dispose([depth, g]);
  });

  it('rejects wrong shapes', () => {
    const d = tf.zeros([1, 4, 4, 2]);
    expect(() => depthToNormals(d, K)).toThrow(/depth: expected \[B,H,W,1\]/);
    d.dispose();
  });
});

describe('depthToPoints / depthToNormals gradients match finite differences', () => {
  // A curved surface (z = 2 + 0.3·sin·cos, no plane), two batch items with their own intrinsics. Small
  // focal lengths make neighbouring points ~0.5 apart, so a depth step of 1e-3 is a small, smooth change.
  const batchK = [
    [
      [4, 0, 3],
      [0, 4.5, 2.5],
      [0, 0, 1],
    ],
    [
      [5, 0.2, 2.5],
      [0, 3.5, 3],
      [0, 0, 1],
    ],
  ];
  const surface = () =>
    tf.tidy(() => {
      const v = new Float32Array(2 * 6 * 7);
      for (let b = 0; b < 2; b++)
        for (let y = 0; y < 6; y++)
          for (let x = 0; x < 7; x++)
            v[(b * 6 + y) * 7 + x] = 2 + 0.3 * Math.sin(0.9 * x + b) * Math.cos(0.7 * y);
      return tf.tensor4d(v, [2, 6, 7, 1]);
    });

  for (const [name, f] of [
    ['depthToPoints', depthToPoints],
    ['depthToNormals', depthToNormals],
  ] as const) {
    it(name, async () => {
      const depth = surface();
      const weights = seededUniform([2, 6, 7, 3], 5);
      const fn = (d: tf.Tensor) => f(d, batchK);
      const analytic = tf.grad((d: tf.Tensor) => tf.sum(tf.mul(fn(d), weights)))(depth);
      const numeric = await finiteDifferenceGradient(fn, depth, weights, 1e-3);
      const a = await analytic.data();
      expect(Array.from(a).some((v) => Math.abs(v) > 0.1)).toBe(true);
      expectClose(a, numeric, { atol: 1e-3, rtol: 1e-3 });
      tf.dispose([depth, weights, analytic]);
    });
  }
});
