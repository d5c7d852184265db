import * as tf from '@tensorflow/tfjs-core';
import { checkIntrinsics, invertIntrinsicsData } from './camera.js';
import { checkInverseDepths } from './depth-candidates.js';
import { type MatrixInput, commonBatch, matrixAt } from './matrix-input.js';
import { checkPoses } from './pose.js';
import { mul3, mul3v, splitPose } from './small-matrix.js';

/** One intrinsics matrix shared by both views, or one per view. */
export type PairIntrinsics = MatrixInput | { reference: MatrixInput; neighbour: MatrixInput };

/** Projected z is clamped here, as the references do: points behind the camera land far outside. */
export const MIN_PROJECTED_DEPTH = 1e-3;

/**
 * Per batch item, the 12 numbers that map a reference pixel at a candidate depth into the neighbour:
 * `A = K_nbr · R · K_ref⁻¹` (row-major 9) then `b = K_nbr · t` (3), with `[R|t] = T_nbr<-ref`.
 * A reference pixel (x, y) at depth d lands at `(d·A[x,y,1] + b)` in homogeneous neighbour pixels.
 */
export interface PlaneSweepProjection {
  /** `[batch, 12]` row-major. */
  data: Float32Array;
  batch: number;
}

/** Throws unless `value` is an integer >= `min`, naming the argument. */
function checkSize(value: number, name: string, min = 1): void {
  if (!Number.isInteger(value) || value < min)
    throw new Error(`${name}: must be an integer >= ${min}, got ${value}`);
}

function isPerView(k: PairIntrinsics): k is { reference: MatrixInput; neighbour: MatrixInput } {
  return (
    typeof k === 'object' && k !== null && !(k instanceof tf.Tensor) && 'reference' in k && 'neighbour' in k
  );
}

/**
 * Validates the cameras of one reference/neighbour pair and folds them into `A` and `b`.
 * @param intrinsics `[3,3]` or `[B,3,3]` at the resolution of the sampled map, shared or per view
 * @param pose `T_nbr<-ref`, `[4,4]` or `[B,4,4]`
 * @param batch the batch size of the feature maps (unbatched cameras broadcast to it)
 */
export function planeSweepProjection(
  intrinsics: PairIntrinsics,
  pose: MatrixInput,
  batch: number,
  names: { intrinsics?: string; pose?: string } = {},
): PlaneSweepProjection {
  const kName = names.intrinsics ?? 'intrinsics';
  const pName = names.pose ?? 'pose';
  checkSize(batch, 'batch');
  const kRef = checkIntrinsics(
    isPerView(intrinsics) ? intrinsics.reference : intrinsics,
    isPerView(intrinsics) ? `${kName}.reference` : kName,
  );
  const kNbr = isPerView(intrinsics) ? checkIntrinsics(intrinsics.neighbour, `${kName}.neighbour`) : kRef;
  const poses = checkPoses(pose, pName);
  commonBatch(
    [
      [kName, kRef.batch],
      [`${kName}.neighbour`, kNbr.batch],
      [pName, poses.batch],
    ],
    batch,
  );
  const data = new Float32Array(batch * 12);
  for (let b = 0; b < batch; b++) {
    const { r, t } = splitPose(matrixAt(poses, b));
    const kn = matrixAt(kNbr, b);
    const a = mul3(mul3(kn, r), invertIntrinsicsData(matrixAt(kRef, b)));
    data.set(a, b * 12);
    data.set(mul3v(kn, t), b * 12 + 9);
  }
  return { data, batch };
}

/**
 * Neighbour pixel coordinates of reference pixels at given depths, from a projection tensor:
 * `(u,v) = (d·q_xy + b_xy) / max(d·q_z + b_z, 1e-3)` with `q = A·[x,y,1]`. Built from stock ops
 * (differentiable w.r.t. depth and projection, runs on any backend).
 * @param projection `[B,12]` (see {@link PlaneSweepProjection})
 * @param depth metric depth broadcastable to `[B,L,H,W]`: `[B,L,1,1]` per plane, `[B,1,H,W]` per pixel
 * @returns `[B,L,H,W,2]` pixel coordinates (x = column, y = row, integer pixel centres)
 */
export function projectReferencePixels(
  projection: tf.Tensor,
  depth: tf.Tensor4D,
  height: number,
  width: number,
): tf.Tensor5D {
  checkSize(height, 'height');
  checkSize(width, 'width');
  const batch = projection.shape[0];
  if (projection.rank !== 2 || projection.shape[1] !== 12)
    throw new Error(`projection: expected [B,12], got [${projection.shape}]`);
  if (depth.rank !== 4 || (depth.shape[0] !== batch && depth.shape[0] !== 1))
    throw new Error(`depth: expected rank 4 broadcastable to [${batch},L,H,W], got [${depth.shape}]`);
  return tf.tidy(() => {
    const xs = tf.reshape(tf.range(0, width, 1, 'float32'), [1, 1, 1, width]);
    const ys = tf.reshape(tf.range(0, height, 1, 'float32'), [1, 1, height, 1]);
    // Columns of the projection as [B,1,1,1] so they broadcast over [B,L,H,W].
    const col = tf
      .unstack(tf.reshape(projection, [batch, 12]), 1)
      .map((c) => tf.reshape(c, [batch, 1, 1, 1]));
    // Row i of d·A·[x,y,1] + b.
    const at = (i: number) =>
      tf.add(
        tf.mul(depth, tf.add(tf.add(tf.mul(col[3 * i], xs), tf.mul(col[3 * i + 1], ys)), col[3 * i + 2])),
        col[9 + i],
      );
    const z = tf.maximum(at(2), MIN_PROJECTED_DEPTH);
    return tf.stack([tf.div(at(0), z), tf.div(at(1), z)], -1) as tf.Tensor5D;
  });
}

/**
 * Neighbour pixel coordinates of every reference pixel at every inverse-depth candidate.
 * @param projection `[B,12]` (see {@link PlaneSweepProjection})
 * @param inverseDepths `[B,L]`, far → near
 * @returns `[B,L,H,W,2]` pixel coordinates
 */
export function planeSweepCoordinatesFromProjection(
  projection: tf.Tensor,
  inverseDepths: tf.Tensor2D,
  height: number,
  width: number,
): tf.Tensor5D {
  if (inverseDepths.rank !== 2)
    throw new Error(`inverseDepths: expected [B,L], got [${inverseDepths.shape}]`);
  return tf.tidy(() => {
    const [batch, count] = inverseDepths.shape;
    const depth = tf.reshape(tf.reciprocal(inverseDepths), [batch, count, 1, 1]) as tf.Tensor4D;
    return projectReferencePixels(projection, depth, height, width);
  });
}

/**
 * Where every reference pixel lands in the neighbour view at every inverse-depth candidate.
 * @param intrinsics `[3,3]`/`[B,3,3]` shared by both views, or `{reference, neighbour}`
 * @param pose `T_nbr<-ref`, `[4,4]` or `[B,4,4]`
 * @param inverseDepths `[L]` or `[B,L]`, far → near, finite and > 0. Arrays are checked; the values of
 *   a tensor are not read (they may live on the GPU), and a 0, negative or non-finite one gives
 *   meaningless (possibly NaN) coordinates for that candidate.
 * @param height, width the reference map's size (integers >= 1)
 * @param batch the batch size (integer >= 1); unbatched cameras and `[L]` depths broadcast to it
 * @returns `[B,L,H,W,2]` pixel coordinates `(x, y)`
 * @example planeSweepCoordinates(K, T, inverseDepthCandidates(0.5, 10, 64), 56, 72, 1)
 */
export function planeSweepCoordinates(
  intrinsics: PairIntrinsics,
  pose: MatrixInput,
  inverseDepths: tf.Tensor | ArrayLike<number>,
  height: number,
  width: number,
  batch = 1,
): tf.Tensor5D {
  checkSize(height, 'height');
  checkSize(width, 'width');
  checkSize(batch, 'batch');
  const proj = planeSweepProjection(intrinsics, pose, batch);
  const shape = inverseDepths instanceof tf.Tensor ? inverseDepths.shape : [inverseDepths?.length];
  if (!(shape.length === 1 || (shape.length === 2 && shape[0] === batch)) || !((shape.at(-1) ?? 0) >= 1)) {
    throw new Error(`inverseDepths: expected [L] or [${batch},L] with L >= 1, got [${shape}]`);
  }
  if (!(inverseDepths instanceof tf.Tensor)) checkInverseDepths(inverseDepths);
  const inv = tf.tidy(() => {
    const t = inverseDepths instanceof tf.Tensor ? inverseDepths : tf.tensor1d(Array.from(inverseDepths));
    return tf.cast(t.rank === 1 ? tf.tile(tf.reshape(t, [1, -1]), [batch, 1]) : t, 'float32') as tf.Tensor2D;
  });
  const p = tf.tensor2d(proj.data, [batch, 12]);
  const out = planeSweepCoordinatesFromProjection(p, inv, height, width);
  tf.dispose([p, inv]);
  return out;
}
