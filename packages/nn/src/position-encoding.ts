import * as tf from '@tensorflow/tfjs-core';

/** Options of `positionEmbeddingSine` (DETR's `PositionEmbeddingSine` arguments). */
export interface PositionEmbeddingSineOptions {
  /** Default 10000. */
  temperature?: number;
  /** Scale positions to (0, scale]. Default true. */
  normalize?: boolean;
  /** Default 2π. */
  scale?: number;
  /** Added to the last position before normalising. Default 1e-6. */
  eps?: number;
}

/**
 * DETR-style 2-D sine position encoding (`PositionEmbeddingSine`, as UniMatch uses it), without a
 * padding mask: 1-based positions `y_e = (i+1)/(H+eps)·scale`, `x_e = (j+1)/(W+eps)·scale` (when
 * `normalize`), `dim_t[k] = temperature^(2·floor(k/2)/numPosFeats)`; channels `0..npf−1` encode y
 * and `npf..2npf−1` encode x, channel `2j` of a half is `sin(e/dim_t[2j])` and `2j+1` is
 * `cos(e/dim_t[2j])`.
 * @param height `H`, @param width `W`
 * @param numPosFeats `npf`, even (UniMatch: `C/2`)
 * @returns `[1, H, W, 2·npf]` float32 (add to `[B,H,W,2·npf]` features)
 * @example
 * positionEmbeddingSine(28, 36, 64).shape; // [1, 28, 36, 128]
 */
export function positionEmbeddingSine(
  height: number,
  width: number,
  numPosFeats: number,
  {
    temperature = 10000,
    normalize = true,
    scale = 2 * Math.PI,
    eps = 1e-6,
  }: PositionEmbeddingSineOptions = {},
): tf.Tensor4D {
  if (![height, width].every((n) => Number.isInteger(n) && n > 0)) {
    throw new Error(
      `positionEmbeddingSine: height and width must be positive integers, got ${height}, ${width}`,
    );
  }
  if (!Number.isInteger(numPosFeats) || numPosFeats < 2 || numPosFeats % 2 !== 0) {
    throw new Error(`positionEmbeddingSine: numPosFeats must be a positive even integer, got ${numPosFeats}`);
  }
  const npf = numPosFeats;
  const invDimT = new Float64Array(npf);
  for (let k = 0; k < npf; k++) invDimT[k] = temperature ** (-(2 * Math.floor(k / 2)) / npf);
  const embed = (i: number, n: number) => (normalize ? ((i + 1) / (n + eps)) * scale : i + 1);
  const out = new Float32Array(height * width * 2 * npf);
  for (let i = 0; i < height; i++) {
    const y = embed(i, height);
    for (let j = 0; j < width; j++) {
      const x = embed(j, width);
      const base = (i * width + j) * 2 * npf;
      for (let k = 0; k < npf; k += 2) {
        out[base + k] = Math.sin(y * invDimT[k]);
        out[base + k + 1] = Math.cos(y * invDimT[k]);
        out[base + npf + k] = Math.sin(x * invDimT[k]);
        out[base + npf + k + 1] = Math.cos(x * invDimT[k]);
      }
    }
  }
  return tf.tensor4d(out, [1, height, width, 2 * npf]);
}
