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
 * How intrinsics follow a downsampling by `stride`.
 * - `'reference'`: rows 0–1 divided by the stride, as UniMatch/MVSplat/DepthSplat do (keep it for
 *   parity with their weights; it leaves a constant sub-pixel offset, 0.44 px at stride 8).
 * - `'pixel-centre'`: the exact map between integer pixel centres, `c' = (c + 0.5)/s − 0.5`.
 */
export type IntrinsicsScaling = 'reference' | 'pixel-centre';

export function scaleIntrinsicsData(
  k: ArrayLike<number>,
  stride: number,
  scaling: IntrinsicsScaling,
): Float64Array {
  const out = Float64Array.from(k as ArrayLike<number>);
  for (let i = 0; i < 6; i++) out[i] = k[i] / stride;
  if (scaling === 'pixel-centre') {
    // Only the principal point moves; x' = (x+0.5)/s - 0.5 applied to K·[X/Z, Y/Z, 1].
    out[2] = (k[2] + 0.5) / stride - 0.5;
    out[5] = (k[5] + 0.5) / stride - 0.5;
  }
  return out;
}

/**
 * Intrinsics of an image downsampled by `stride` (e.g. 8 for 1/8-resolution features).
 * @param intrinsics `[3,3]` or `[B,3,3]`, in pixels of the full-resolution image
 * @returns the same shape, in pixels of the downsampled map
 * @example scaleIntrinsics(K, 8) // the references' convention
 */
export function scaleIntrinsics(
  intrinsics: MatrixInput,
  stride: number,
  options: { scaling?: IntrinsicsScaling } = {},
): tf.Tensor {
  if (!(Number.isFinite(stride) && stride > 0))
    throw new Error(`stride: must be a positive number, got ${stride}`);
  const scaling = options.scaling ?? 'reference';
  if (scaling !== 'reference' && scaling !== 'pixel-centre') throw new Error(`scaling: unknown '${scaling}'`);
  const m = checkIntrinsics(intrinsics);
  const out = new Float64Array(m.data.length);
  for (let b = 0; b < m.data.length / 9; b++) {
    out.set(scaleIntrinsicsData(m.data.subarray(b * 9, b * 9 + 9), stride, scaling), b * 9);
  }
  return toTensor(out, m.batch, 3, 3);
}
