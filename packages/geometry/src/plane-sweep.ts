import * as tf from '@tensorflow/tfjs-core';
import { checkIntrinsics, invertIntrinsicsData } from './camera.js';
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
 * Neighbour pixel coordinates `(u, v)` of every reference pixel at every candidate, from a projection
 * tensor: `(u,v) = (d·q_xy + b_xy) / max(d·q_z + b_z, 1e-3)`, `q = A·[x,y,1]`, `d = 1/inverseDepth`.
 * Built from stock ops (differentiable, runs on any backend).
 * @param projection `[B,12]` (see {@link PlaneSweepProjection})
 * @param inverseDepths `[B,L]`
 * @returns `[B,L,H,W,2]` pixel coordinates (x = column, y = row, integer pixel centres)
 */
export function planeSweepCoordinatesFromProjection(
  projection: tf.Tensor2D,
  inverseDepths: tf.Tensor2D,
  height: number,
  width: number,
): tf.Tensor5D {
  return tf.tidy(() => {
    const [batch, count] = inverseDepths.shape;
    const xs = tf.reshape(tf.range(0, width, 1, 'float32'), [1, 1, 1, width]);
    const ys = tf.reshape(tf.range(0, height, 1, 'float32'), [1, 1, height, 1]);
    // Columns of the projection as [B,1,1,1] so they broadcast over [B,L,H,W].
    const col = tf
      .unstack(tf.reshape(projection, [batch, 12]), 1)
      .map((c) => tf.reshape(c, [batch, 1, 1, 1]));
    const depth = tf.reshape(tf.reciprocal(inverseDepths), [batch, count, 1, 1]);
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
 * Where every reference pixel lands in the neighbour view at every inverse-depth candidate.
 * @param intrinsics `[3,3]`/`[B,3,3]` shared by both views, or `{reference, neighbour}`
 * @param pose `T_nbr<-ref`, `[4,4]` or `[B,4,4]`
 * @param inverseDepths `[L]` or `[B,L]`, far → near
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
  const proj = planeSweepProjection(intrinsics, pose, batch);
  const inv = tf.tidy(() => {
    const t = inverseDepths instanceof tf.Tensor ? inverseDepths : tf.tensor1d(Array.from(inverseDepths));
    return tf.cast(t.rank === 1 ? tf.tile(tf.reshape(t, [1, -1]), [batch, 1]) : t, 'float32') as tf.Tensor2D;
  });
  if (inv.rank !== 2 || inv.shape[0] !== batch) {
    inv.dispose();
    throw new Error(
      `inverseDepths: expected [L] or [${batch},L], got [${(inverseDepths as tf.Tensor).shape}]`,
    );
  }
  const p = tf.tensor2d(proj.data, [batch, 12]);
  const out = planeSweepCoordinatesFromProjection(p, inv, height, width);
  tf.dispose([p, inv]);
  return out;
}
