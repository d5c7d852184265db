import '@tensorflow/tfjs-backend-cpu';
import { expectClose, expectNoLeaks, finiteDifferenceGradient, seededUniform } from '@cvm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { relativePose, warpByDepth } from '../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const H = 6;
const W = 9;
const K = [
  [20, 0, 4],
  [0, 20, 2.5],
  [0, 0, 1],
];
const eye = [
  [1, 0, 0, 0],
  [0, 1, 0, 0],
  [0, 0, 1, 0],
  [0, 0, 0, 1],
];

describe('warpByDepth', () => {
  it('is the identity for an identity pose', async () => {
    const image = seededUniform([1, H, W, 3], 1);
    const depth = tf.fill([1, H, W, 1], 1.7);
    const out = await expectNoLeaks(() => warpByDepth(image, depth, eye, K));
    expectClose(await out.data(), await image.data(), { atol: 1e-5 });
    tf.dispose([image, depth, out]);
  });

  it('shifts a fronto-parallel plane by fx·tx/d pixels under a sideways move', async () => {
    // Neighbour 0.2 m to the right; plane at 2 m: a reference pixel x sees what the neighbour sees at
    // x - fx·tx/d = x - 2.
    const c2wNbr = [
      [1, 0, 0, 0.2],
      [0, 1, 0, 0],
      [0, 0, 1, 0],
      [0, 0, 0, 1],
    ];
    const pose = relativePose(eye, c2wNbr);
    const image = seededUniform([1, H, W, 2], 2);
    const depth = tf.fill([1, H, W, 1], 2);
    const out = (await warpByDepth(image, depth, pose, K).array()) as number[][][][];
    const src = (await image.array()) as number[][][][];
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++)
        for (let c = 0; c < 2; c++) {
          const expected = x - 2 >= 0 ? src[0][y][x - 2][c] : 0;
          expect(out[0][y][x][c]).toBeCloseTo(expected, 5);
        }
    tf.dispose([pose, image, depth]);
  });

  it('uses per-view intrinsics: K_nbr · K_ref⁻¹ resamples between resolutions of the same camera', async () => {
    // Same camera centre, neighbour intrinsics with doubled focal length and principal point moved:
    // reference pixel x lands at 2(x - cx) + cx' in the neighbour.
    const kNbr = [
      [40, 0, 3],
      [0, 40, 2],
      [0, 0, 1],
    ];
    const image = seededUniform([1, H, W, 1], 3);
    const depth = tf.fill([1, H, W, 1], 3);
    const out = (await warpByDepth(image, depth, eye, {
      reference: K,
      neighbour: kNbr,
    }).array()) as number[][][][];
    const src = (await image.array()) as number[][][][];
    // Reference pixel (4, 2.5 would be the centre); take x = 4, y = 2 -> u = 3, v = 2·(2 - 2.5) + 2 = 1.
    expect(out[0][2][4][0]).toBeCloseTo(src[0][1][3][0], 5);
    tf.dispose([image, depth]);
  });

  it('is differentiable w.r.t. depth (finite differences)', async () => {
    const c2wNbr = [
      [Math.cos(0.1), 0, Math.sin(0.1), 0.3],
      [0, 1, 0, 0.05],
      [-Math.sin(0.1), 0, Math.cos(0.1), 0],
      [0, 0, 0, 1],
    ];
    const pose = relativePose(eye, c2wNbr);
    const image = seededUniform([1, H, W, 2], 4);
    const depth = seededUniform([1, H, W, 1], 5, 1.5, 3);
    const weights = seededUniform([1, H, W, 2], 6);
    const f = (d: tf.Tensor) => warpByDepth(image, d, pose, K);
    const analytic = await tf
      .grad((d: tf.Tensor) => tf.sum(tf.mul(f(d), weights)))(depth)
      .data();
    const numeric = await finiteDifferenceGradient(f, depth, weights, 1e-3);
    expectClose(analytic, numeric, { atol: 2e-3, rtol: 2e-2 });
    tf.dispose([pose, image, depth, weights]);
  });

  it('rejects mismatched shapes', () => {
    const image = tf.zeros([1, H, W, 3]);
    const depth = tf.zeros([1, H + 1, W, 1]);
    expect(() => warpByDepth(image, depth, eye, K)).toThrow(
      /referenceDepth: shape \[1,7,9,1\] does not match/,
    );
    expect(() => warpByDepth(image, tf.zeros([1, H, W, 2]), eye, K)).toThrow(
      /referenceDepth: expected \[B,H,W,1\]/,
    );
    tf.dispose([image, depth]);
  });
});
