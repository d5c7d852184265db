import * as tf from '@tensorflow/tfjs-core';
import { type MatrixBatch, type MatrixInput, commonBatch, matrixAt, readMatrices } from './matrix-input.js';
import { mul4 } from './small-matrix.js';

/**
 * Checks 4x4 homogeneous transforms: finite, last row `[0,0,0,1]`, invertible rotation block.
 * Rigidity is not required (scaled poses are inverted exactly, as torch.inverse would).
 */
export function checkPoses(input: MatrixInput, name = 'pose'): MatrixBatch {
  const m = readMatrices(input, 4, 4, name);
  const count = m.batch ?? 1;
  for (let b = 0; b < count; b++) {
    const p = m.data.subarray(b * 16, b * 16 + 16);
    const where = m.batch === null ? '' : ` (batch item ${b})`;
    if (p[12] !== 0 || p[13] !== 0 || p[14] !== 0 || p[15] !== 1) {
      throw new Error(
        `${name}: last row must be [0,0,0,1]${where}, got [${Array.from(p.subarray(12)).join(',')}]`,
      );
    }
    const det =
      p[0] * (p[5] * p[10] - p[6] * p[9]) -
      p[1] * (p[4] * p[10] - p[6] * p[8]) +
      p[2] * (p[4] * p[9] - p[5] * p[8]);
    if (!(Math.abs(det) > 1e-12)) throw new Error(`${name}: singular rotation block${where} (det ${det})`);
  }
  return m;
}

/** Inverse of a 4x4 with last row [0,0,0,1]: `[A t; 0 1]⁻¹ = [A⁻¹, −A⁻¹t; 0 1]`. */
export function invertPoseData(p: ArrayLike<number>): Float64Array {
  const a = [p[0], p[1], p[2], p[4], p[5], p[6], p[8], p[9], p[10]];
  const c00 = a[4] * a[8] - a[5] * a[7];
  const c01 = a[5] * a[6] - a[3] * a[8];
  const c02 = a[3] * a[7] - a[4] * a[6];
  const det = a[0] * c00 + a[1] * c01 + a[2] * c02;
  const inv = [
    c00 / det,
    (a[2] * a[7] - a[1] * a[8]) / det,
    (a[1] * a[5] - a[2] * a[4]) / det,
    c01 / det,
    (a[0] * a[8] - a[2] * a[6]) / det,
    (a[2] * a[3] - a[0] * a[5]) / det,
    c02 / det,
    (a[1] * a[6] - a[0] * a[7]) / det,
    (a[0] * a[4] - a[1] * a[3]) / det,
  ];
  const t = [p[3], p[7], p[11]];
  const out = new Float64Array(16);
  for (let r = 0; r < 3; r++) {
    out[r * 4] = inv[r * 3];
    out[r * 4 + 1] = inv[r * 3 + 1];
    out[r * 4 + 2] = inv[r * 3 + 2];
    out[r * 4 + 3] = -(inv[r * 3] * t[0] + inv[r * 3 + 1] * t[1] + inv[r * 3 + 2] * t[2]);
  }
  out[15] = 1;
  return out;
}

/**
 * Relative pose `T_nbr<-ref = inv(c2w_nbr) · c2w_ref`: maps reference-camera coordinates to
 * neighbour-camera coordinates (the pose the plane-sweep warp takes).
 * @param cameraToWorldRef `[4,4]` or `[B,4,4]`, OpenCV camera-to-world
 * @param cameraToWorldNbr `[4,4]` or `[B,4,4]`
 * @returns `[4,4]`, or `[B,4,4]` if either input is batched
 * @example relativePose(c2w[0], c2w[1]) // T_1<-0
 */
export function relativePose(cameraToWorldRef: MatrixInput, cameraToWorldNbr: MatrixInput): tf.Tensor {
  const ref = checkPoses(cameraToWorldRef, 'cameraToWorldRef');
  const nbr = checkPoses(cameraToWorldNbr, 'cameraToWorldNbr');
  const batch = commonBatch([
    ['cameraToWorldRef', ref.batch],
    ['cameraToWorldNbr', nbr.batch],
  ]);
  const n = batch ?? 1;
  const out = new Float32Array(16 * n);
  for (let b = 0; b < n; b++) {
    out.set(mul4(invertPoseData(matrixAt(nbr, b)), matrixAt(ref, b)), b * 16);
  }
  return tf.tensor(out, batch === null ? [4, 4] : [batch, 4, 4]);
}
