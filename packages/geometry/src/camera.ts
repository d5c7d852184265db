import * as tf from '@tensorflow/tfjs-core';
import { type MatrixBatch, type MatrixInput, readMatrices } from './matrix-input.js';
import { det3 } from './small-matrix.js';

/**
 * Checks pinhole intrinsics `[[fx, s, cx], [0, fy, cy], [0, 0, 1]]` (row-major, pixels): finite,
 * last row exactly `[0,0,1]`, zeros below the diagonal, positive focal lengths (so never singular).
 * @returns the matrices read to the CPU
 */
export function checkIntrinsics(input: MatrixInput, name = 'intrinsics'): MatrixBatch {
  const m = readMatrices(input, 3, 3, name);
  const count = m.batch ?? 1;
  for (let b = 0; b < count; b++) {
    const k = m.data.subarray(b * 9, b * 9 + 9);
    const where = m.batch === null ? '' : ` (batch item ${b})`;
    if (k[3] !== 0 || k[6] !== 0 || k[7] !== 0 || k[8] !== 1) {
      throw new Error(
        `${name}: not a pinhole intrinsics matrix${where}: expected [[fx,s,cx],[0,fy,cy],[0,0,1]]`,
      );
    }
    if (!(k[0] > 0 && k[4] > 0) || det3(k) === 0) {
      throw new Error(`${name}: singular or flipped intrinsics${where}: fx=${k[0]}, fy=${k[4]} must be > 0`);
    }
  }
  return m;
}

/** Analytic inverse of one checked intrinsics matrix (row-major 9), exact for the pinhole form. */
export function invertIntrinsicsData(k: ArrayLike<number>): Float64Array {
  const fx = k[0];
  const s = k[1];
  const cx = k[2];
  const fy = k[4];
  const cy = k[5];
  return Float64Array.of(
    1 / fx,
    -s / (fx * fy),
    (s * cy - cx * fy) / (fx * fy),
    0,
    1 / fy,
    -cy / fy,
    0,
    0,
    1,
  );
}

function toTensor(data: Float64Array, batch: number | null, rows: number, cols: number): tf.Tensor {
  return tf.tensor(Float32Array.from(data), batch === null ? [rows, cols] : [batch, rows, cols]);
}

/**
 * Inverse of pinhole intrinsics, computed analytically (no LU), so that `K⁻¹` of a plain camera has
 * no rounding error beyond float32 storage.
 * @param intrinsics `[3,3]` or `[B,3,3]`
 * @returns `[3,3]` or `[B,3,3]`
 * @example invertIntrinsics([[500, 0, 320], [0, 500, 240], [0, 0, 1]])
 */
export function invertIntrinsics(intrinsics: MatrixInput): tf.Tensor {
  const m = checkIntrinsics(intrinsics);
  const out = new Float64Array(m.data.length);
  for (let b = 0; b < m.data.length / 9; b++)
    out.set(invertIntrinsicsData(m.data.subarray(b * 9, b * 9 + 9)), b * 9);
  return toTensor(out, m.batch, 3, 3);
}

/**
 * How intrinsics follow a downsampling by `stride` s: it depends on where the feature extractor puts
 * feature i in the input. Neither is "exact" in general; each is exact for its kind of extractor, and
 * the other one misplaces every feature by (s−1)/(2s) of a feature pixel (0.44 at s = 8).
 * - `'strided'` (default): rows 0–1 divided by s, `K/s`. Feature i is centred on input pixel s·i, as
 *   with plain subsampling `x[::s]` and strided convolutions padded to "same" ((k−1)/2 for an odd k). The
 *   project's spatial encoder (`@cvm/cvm-module`: 7×7 stride 2 pad 3, then two stages whose first 3×3
 *   conv has stride 2 pad 1) centres feature i on input pixel 8i, so `K/8` is exact for it; UniMatch,
 *   MVSplat and DepthSplat scale by `K/s` too.
 * - `'pooled'`: feature i is centred on the middle of the s×s block it summarises, input pixel
 *   s·i + (s−1)/2, as with average pooling, patchify (ViT patch embedding, kernel = stride = s) and
 *   area resizing: `c' = (c + 0.5)/s − 0.5` (focal lengths and skew divided by s).
 * - `'reference'` and `'pixel-centre'`: former names of `'strided'` and `'pooled'`, still accepted.
 */
export type IntrinsicsScaling = 'strided' | 'pooled' | 'reference' | 'pixel-centre';

const SCALINGS: readonly IntrinsicsScaling[] = ['strided', 'pooled', 'reference', 'pixel-centre'];

export function scaleIntrinsicsData(
  k: ArrayLike<number>,
  stride: number,
  scaling: IntrinsicsScaling,
): Float64Array {
  const out = Float64Array.from(k as ArrayLike<number>);
  for (let i = 0; i < 6; i++) out[i] = k[i] / stride;
  if (scaling === 'pooled' || scaling === 'pixel-centre') {
    // Only the principal point moves: x' = (x + 0.5)/s − 0.5 applied to K·[X/Z, Y/Z, 1].
    out[2] = (k[2] + 0.5) / stride - 0.5;
    out[5] = (k[5] + 0.5) / stride - 0.5;
  }
  return out;
}

/**
 * Intrinsics of a feature map downsampled by `stride` (e.g. 8 for 1/8-resolution features). Pick the
 * scaling that matches the feature extractor (see {@link IntrinsicsScaling}): `'strided'` (the
 * default, `K/s`) for strided convolutions and subsampling, `'pooled'` for average pooling and patchify.
 * @param intrinsics `[3,3]` or `[B,3,3]`, in pixels of the full-resolution image
 * @param options.scaling `'strided'` (default) or `'pooled'`
 * @returns the same shape, in pixels of the downsampled map
 * @example scaleIntrinsics(K, 8) // features of the CvM spatial encoder (strided convolutions)
 * @example scaleIntrinsics(K, 16, { scaling: 'pooled' }) // ViT-B/16 patch tokens
 */
export function scaleIntrinsics(
  intrinsics: MatrixInput,
  stride: number,
  options: { scaling?: IntrinsicsScaling } = {},
): tf.Tensor {
  if (!(Number.isFinite(stride) && stride > 0))
    throw new Error(`stride: must be a positive number, got ${stride}`);
  const scaling = options.scaling ?? 'strided';
  if (!SCALINGS.includes(scaling)) {
    throw new Error(`scaling: expected 'strided' or 'pooled', got ${JSON.stringify(scaling)}`);
  }
  const m = checkIntrinsics(intrinsics);
  const out = new Float64Array(m.data.length);
  for (let b = 0; b < m.data.length / 9; b++) {
    out.set(scaleIntrinsicsData(m.data.subarray(b * 9, b * 9 + 9), stride, scaling), b * 9);
  }
  return toTensor(out, m.batch, 3, 3);
}
