import * as tf from '@tensorflow/tfjs-core';

/**
 * DINOv3's RoPE periods `base^(4f/d)` for `f = 0 … d/4−1` (`RopePositionEmbedding._init_weights` with
 * `base`), computed in float64 and stored as float32.
 * @param headDim `d`, a multiple of 4
 * @returns `[d/4]`
 * @example
 * ropePeriods(64, 100).shape; // [16], from 1 to 100^(15/16)
 */
export function ropePeriods(headDim: number, base: number): tf.Tensor1D {
  if (!Number.isInteger(headDim) || headDim % 4 !== 0) {
    throw new Error(`ropePeriods: headDim must be a multiple of 4, got ${headDim}`);
  }
  const n = headDim / 4;
  return tf.tensor1d(Float32Array.from({ length: n }, (_, f) => base ** ((2 * f) / (headDim / 2))));
}

/**
 * DINOv3's axial 2-D RoPE tables for an `gh × gw` patch grid with `normalize_coords="separate"` (eval
 * mode: no shift, jitter or rescale): `c_y(i) = 2(i+0.5)/gh − 1`, `c_x(j) = 2(j+0.5)/gw − 1`, angles
 * `2π·c/period` laid out `[y-freqs, x-freqs]` and tiled twice.
 * @param periods `[d/4]`
 * @returns `{sin, cos}`, each `[gh·gw, d]` (row-major tokens)
 */
export function ropeTables(
  gh: number,
  gw: number,
  periods: tf.Tensor,
): { sin: tf.Tensor2D; cos: tf.Tensor2D } {
  return tf.tidy(() => {
    const cy = Float32Array.from({ length: gh }, (_, i) => (2 * (i + 0.5)) / gh - 1);
    const cx = Float32Array.from({ length: gw }, (_, j) => (2 * (j + 0.5)) / gw - 1);
    // coords [HW, 2] in (y, x) order, row-major over the grid.
    const coords = new Float32Array(gh * gw * 2);
    for (let i = 0; i < gh; i++) {
      for (let j = 0; j < gw; j++) {
        coords[2 * (i * gw + j)] = cy[i];
        coords[2 * (i * gw + j) + 1] = cx[j];
      }
    }
    const n = periods.shape[0] as number;
    const angles = tf.div(
      tf.mul(tf.tensor3d(coords, [gh * gw, 2, 1]), 2 * Math.PI),
      tf.reshape(periods, [1, 1, n]),
    ); // [HW, 2, d/4]
    const flat = tf.reshape(angles, [gh * gw, 2 * n]);
    const tiled = tf.concat([flat, flat], 1) as tf.Tensor2D;
    return { sin: tf.sin(tiled), cos: tf.cos(tiled) };
  });
}

/** `[x0..x_{d/2−1}, x_{d/2}..] → [−x_{d/2}.., x0..]` along the last axis. */
function rotateHalf(x: tf.Tensor): tf.Tensor {
  const d = x.shape[x.rank - 1] as number;
  const [a, b] = tf.split(x, [d / 2, d / 2], -1);
  return tf.concat([tf.neg(b), a], -1);
}

/**
 * Rotates the last `L` tokens of `x` (`x·cos + rotate_half(x)·sin`); the leading prefix tokens (class,
 * registers) are left as they are.
 * @param x `[B, h, N, d]`
 * @param sin `[L, d]`, @param cos `[L, d]` with `L ≤ N`
 * @returns `[B, h, N, d]`
 */
export function applyRope(x: tf.Tensor, sin: tf.Tensor, cos: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const n = x.shape[2] as number;
    const l = sin.shape[0] as number;
    const prefix = n - l;
    if (prefix < 0) throw new Error(`applyRope: ${l} positions for ${n} tokens`);
    const [head, body] = prefix > 0 ? tf.split(x, [prefix, l], 2) : [null, x];
    const rotated = tf.add(tf.mul(body, cos), tf.mul(rotateHalf(body), sin));
    return head ? tf.concat([head, rotated], 2) : rotated;
  });
}
