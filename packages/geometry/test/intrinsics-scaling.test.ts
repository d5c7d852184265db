import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { type IntrinsicsScaling, scaleIntrinsics, warpByDepth } from '../src/index.js';

/**
 * Which intrinsics scaling fits which feature extractor, checked by warping encoder-like features of a
 * rendered scene: a textured fronto-parallel plane at Z = 2 m seen by a reference camera and by a
 * neighbour that moved 0.8 m towards it (a zoom about the principal point, so the principal point
 * matters). Features at stride 8 are taken two ways from each full-resolution image:
 * - strided, `x[::8]` (feature i = pixel 8i, as the strided-conv spatial encoder centres it);
 * - pooled, an 8×8 average (feature i centred on pixel 8i + 3.5, as average pooling / patchify).
 * Warping the neighbour's features into the reference with the matching scaling reproduces the
 * reference's features up to interpolation error; with the other scaling, every sample is misplaced.
 */

const STRIDE = 8;
const H = 96;
const W = 128;
const F = 110;
const K = [
  [F, 0, (W - 1) / 2],
  [0, F, (H - 1) / 2],
  [0, 0, 1],
];
const PLANE_Z = 2;
/** Neighbour camera-to-world in the reference frame: 0.8 m forward, 0.1 m right. */
const C2W_NBR = [
  [1, 0, 0, 0.1],
  [0, 1, 0, 0],
  [0, 0, 1, 0.8],
  [0, 0, 0, 1],
];
/** T_nbr<-ref = inv(c2w_nbr) (c2w_ref = I); a pure translation inverts by negation. */
const POSE = [
  [1, 0, 0, -0.1],
  [0, 1, 0, 0],
  [0, 0, 1, -0.8],
  [0, 0, 0, 1],
];

/** Smooth texture on the plane (periods of 1.5–2.5 m, i.e. 10–17 feature pixels). */
const texture = (x: number, y: number) => Math.sin(4 * x + 2.5 * y) + Math.cos(3 * x - 3.5 * y);

/** Full-resolution image of the plane seen by a camera at `(tx, ty, tz)` looking along +z. */
function render(t: number[]): tf.Tensor4D {
  const v = new Float32Array(H * W);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const rayX = (x - K[0][2]) / F;
      const rayY = (y - K[1][2]) / F;
      const s = PLANE_Z - t[2]; // the ray (rayX, rayY, 1) reaches z = PLANE_Z after s
      v[y * W + x] = texture(t[0] + s * rayX, t[1] + s * rayY);
    }
  return tf.tensor4d(v, [1, H, W, 1]);
}

const strided = (image: tf.Tensor4D) =>
  tf.stridedSlice(image, [0, 0, 0, 0], [1, H, W, 1], [1, STRIDE, STRIDE, 1]) as tf.Tensor4D;
const pooled = (image: tf.Tensor4D) => tf.avgPool(image, STRIDE, STRIDE, 'valid');

let images: { reference: tf.Tensor4D; neighbour: tf.Tensor4D };

beforeAll(async () => {
  await tf.setBackend('cpu');
  images = { reference: render([0, 0, 0]), neighbour: render([C2W_NBR[0][3], C2W_NBR[1][3], C2W_NBR[2][3]]) };
});

/** RMS difference between the reference features and the neighbour's warped with `scaling`, inside. */
async function warpError(
  extract: (i: tf.Tensor4D) => tf.Tensor4D,
  scaling: IntrinsicsScaling,
): Promise<number> {
  const error = tf.tidy(() => {
    const ref = extract(images.reference);
    const nbr = extract(images.neighbour);
    const k = scaleIntrinsics(K, STRIDE, { scaling });
    const depth = tf.fill([1, H / STRIDE, W / STRIDE, 1], PLANE_Z) as tf.Tensor4D;
    const warped = warpByDepth(nbr, depth, POSE, k);
    // Only where all four bilinear taps are inside the neighbour map.
    const inside = tf.cast(tf.greater(warpByDepth(tf.onesLike(nbr), depth, POSE, k), 0.9999), 'float32');
    const squared = tf.mul(tf.square(tf.sub(warped, ref)), inside);
    return tf.sqrt(tf.div(tf.sum(squared), tf.sum(inside)));
  });
  const value = (await error.data())[0];
  error.dispose();
  return value;
}

describe('intrinsics scaling matches the feature extractor', () => {
  it('strided features (x[::8], strided convs) warp correctly with K/8, not with the pooled scaling', async () => {
    const own = await warpError(strided, 'strided');
    const other = await warpError(strided, 'pooled');
    expect(own).toBeLessThan(0.05);
    expect(own).toBeLessThan(other / 4);
  });

  it('pooled features (8×8 average, patchify) warp correctly with the pooled scaling, not with K/8', async () => {
    const own = await warpError(pooled, 'pooled');
    const other = await warpError(pooled, 'strided');
    expect(own).toBeLessThan(0.05);
    expect(own).toBeLessThan(other / 4);
  });
});
