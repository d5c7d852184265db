import {
  type MatrixInput,
  type PairIntrinsics,
  checkIntrinsics,
  checkInverseDepths,
  checkPoses,
  planeSweepProjection,
} from '@cvm/geometry';
import * as tf from '@tensorflow/tfjs-core';
import { DEFAULT_CHUNK_SIZE, costVolumeComposite } from '../composite/cost-volume.js';
import { COST_VOLUME } from '../kernel-names.js';

/** Intrinsics shared by every view (`[3,3]` or `[B,3,3]`), or one per view. */
export type CostVolumeIntrinsics =
  | MatrixInput
  | { reference: MatrixInput; neighbours: readonly MatrixInput[] };

/** Which implementation computes the volume: `'auto'` takes the fused kernel when the backend has one. */
export type CostVolumeImplementation = 'auto' | 'fused' | 'composite';

export interface CostVolumeOptions {
  /** At feature resolution, shared (`[3,3]`/`[B,3,3]`) or `{reference, neighbours: [...]}` (one per neighbour). */
  intrinsics: CostVolumeIntrinsics;
  /** One `T_nbr<-ref` per neighbour, `[4,4]` or `[B,4,4]` (tensors or nested arrays). */
  poses: readonly MatrixInput[];
  /**
   * `[L]` or `[B,L]` inverse depths, far → near, finite and > 0. A tensor (float32) is used where it lives,
   * e.g. on the GPU: its values are not read or checked, and a candidate that is not finite and > 0 gives a
   * zero correlation plane. Arrays are checked (an error names the bad value).
   */
  inverseDepths: tf.Tensor | ArrayLike<number> | readonly (readonly number[])[];
  implementation?: CostVolumeImplementation;
  /** Candidates per chunk in the composite path (memory ∝ chunkSize·H·W·C). */
  chunkSize?: number;
}

const IMPLEMENTATIONS: readonly CostVolumeImplementation[] = ['auto', 'fused', 'composite'];

function isPerView(
  k: CostVolumeIntrinsics,
): k is { reference: MatrixInput; neighbours: readonly MatrixInput[] } {
  return (
    typeof k === 'object' &&
    k !== null &&
    !(k instanceof tf.Tensor) &&
    !Array.isArray(k) &&
    !ArrayBuffer.isView(k) &&
    'reference' in k
  );
}

function checkFeatures(reference: tf.Tensor, neighbours: readonly tf.Tensor[]): void {
  if (!(reference instanceof tf.Tensor)) throw new Error('reference: expected a tf.Tensor [B,H,W,C]');
  if (reference.rank !== 4)
    throw new Error(`reference: expected rank 4 [B,H,W,C], got shape [${reference.shape}]`);
  if (reference.dtype !== 'float32') throw new Error(`reference: expected float32, got ${reference.dtype}`);
  const [b, h, w, c] = reference.shape;
  if (b < 1 || c < 1) throw new Error(`reference: empty batch or channels, shape [${reference.shape}]`);
  // align_corners=True normalises by (W−1) and (H−1): a 1-pixel axis has no defined sampling grid.
  if (h < 2 || w < 2) throw new Error(`reference: height and width must be >= 2, got ${h}x${w}`);
  if (!Array.isArray(neighbours)) throw new Error('neighbours: expected an array of [B,H,W,C] tensors');
  if (neighbours.length === 0) throw new Error('neighbours: at least one neighbour view is needed, got none');
  neighbours.forEach((n, i) => {
    const name = `neighbours[${i}]`;
    if (!(n instanceof tf.Tensor)) throw new Error(`${name}: expected a tf.Tensor [B,H,W,C]`);
    if (n.rank !== 4) throw new Error(`${name}: expected rank 4 [B,H,W,C], got shape [${n.shape}]`);
    if (n.dtype !== 'float32') throw new Error(`${name}: expected float32, got ${n.dtype}`);
    if (n.shape[0] !== b)
      throw new Error(`${name}: batch size ${n.shape[0]} does not match reference (${b})`);
    if (n.shape[3] !== c) throw new Error(`${name}: ${n.shape[3]} channels, but reference has ${c}`);
    if (n.shape[1] !== h || n.shape[2] !== w) {
      throw new Error(`${name}: size ${n.shape[1]}x${n.shape[2]} does not match reference (${h}x${w})`);
    }
  });
}

function checkBatch(name: string, batch: number | null, expected: number): void {
  if (batch !== null && batch !== expected) {
    throw new Error(`${name}: batch size ${batch} does not match reference (${expected})`);
  }
}

/** Validates the cameras and folds each neighbour's into `[B,12]` projection numbers. */
function projections(
  intrinsics: CostVolumeIntrinsics,
  poses: readonly MatrixInput[],
  count: number,
  batch: number,
) {
  if (intrinsics == null) throw new Error('intrinsics: required ([3,3], [B,3,3] or {reference, neighbours})');
  if (!Array.isArray(poses)) throw new Error('poses: expected an array with one T_nbr<-ref per neighbour');
  if (poses.length !== count) {
    throw new Error(`poses: ${poses.length} poses for ${count} neighbours (one T_nbr<-ref per neighbour)`);
  }
  let pair: (i: number) => PairIntrinsics;
  if (isPerView(intrinsics)) {
    const { reference, neighbours } = intrinsics;
    if (!Array.isArray(neighbours))
      throw new Error('intrinsics.neighbours: expected an array, one per neighbour');
    if (neighbours.length !== count) {
      throw new Error(`intrinsics.neighbours: ${neighbours.length} matrices for ${count} neighbours`);
    }
    checkBatch('intrinsics.reference', checkIntrinsics(reference, 'intrinsics.reference').batch, batch);
    neighbours.forEach((k, i) => {
      const name = `intrinsics.neighbours[${i}]`;
      checkBatch(name, checkIntrinsics(k, name).batch, batch);
    });
    pair = (i) => ({ reference, neighbour: neighbours[i] });
  } else {
    checkBatch('intrinsics', checkIntrinsics(intrinsics, 'intrinsics').batch, batch);
    pair = () => intrinsics;
  }
  return poses.map((pose, i) => {
    const name = `poses[${i}]`;
    checkBatch(name, checkPoses(pose, name).batch, batch);
    return planeSweepProjection(pair(i), pose, batch, { intrinsics: 'intrinsics', pose: name }).data;
  });
}

/**
 * The candidates as a `[B,L]` float32 tensor (`[L]` is broadcast over the batch). A tensor stays where it
 * is (e.g. on the GPU): only its shape and dtype are checked, never its values. Host arrays are checked
 * for free: every value finite and > 0.
 */
function inverseDepthsTensor(input: CostVolumeOptions['inverseDepths'], batch: number): tf.Tensor2D {
  const name = 'inverseDepths';
  if (input == null) throw new Error(`${name}: required, [L] or [B,L]`);
  let shape: number[];
  let values: ArrayLike<number> | null = null;
  if (input instanceof tf.Tensor) {
    if (input.isDisposed) throw new Error(`${name}: the tensor is disposed`);
    if (input.dtype !== 'float32') throw new Error(`${name}: expected float32, got ${input.dtype}`);
    shape = input.shape;
  } else if (Array.isArray(input) && input.length > 0 && typeof input[0] !== 'number') {
    const rows = input as readonly (readonly number[])[];
    const width = rows[0].length;
    if (rows.some((r) => !Array.isArray(r) || r.length !== width))
      throw new Error(`${name}: ragged nested array`);
    shape = [rows.length, width];
    values = rows.flat();
  } else if (typeof input === 'object' && typeof (input as ArrayLike<number>).length === 'number') {
    values = input as ArrayLike<number>;
    shape = [values.length];
  } else {
    throw new Error(`${name}: expected a tensor or an array of numbers, [L] or [B,L]`);
  }
  if (shape.length !== 1 && shape.length !== 2)
    throw new Error(`${name}: expected [L] or [B,L], got [${shape}]`);
  const count = shape[shape.length - 1];
  if (!(count >= 1)) throw new Error(`${name}: need at least one candidate (L >= 1), got L = ${count}`);
  if (shape.length === 2 && shape[0] !== batch) {
    throw new Error(`${name}: batch size ${shape[0]} does not match reference (${batch})`);
  }
  if (values !== null) checkInverseDepths(values, name);
  return tf.tidy(() => {
    const t =
      input instanceof tf.Tensor ? input : tf.tensor(Float32Array.from(values as ArrayLike<number>), shape);
    return (shape.length === 1 ? tf.tile(tf.reshape(t, [1, count]), [batch, 1]) : tf.clone(t)) as tf.Tensor2D;
  });
}

/**
 * Plane-sweep correlation volume of a reference view against one or more neighbour views, as
 * UniMatch/MVSplat/DepthSplat build it: every reference pixel is back-projected at each candidate
 * depth, projected into each neighbour (`T_nbr<-ref`), the neighbour features are sampled bilinearly
 * (align_corners=True index space, zero padding, projected z clamped at 1e-3) and correlated with the
 * reference features, `Σ_c ref·warped / √C`; the result is the arithmetic mean over neighbours.
 * Gradients flow to the features only (the warp itself is not differentiated, as in the references).
 *
 * Uses the fused kernel of the active backend when there is one (`cpu`, `webgpu`), otherwise a composite
 * of stock ops chunked over candidates so that memory stays ∝ `chunkSize·H·W·C` in forward and backward.
 *
 * @param reference `[B,H,W,C]` reference-view features
 * @param neighbours one `[B,H,W,C]` per neighbour view (at least one)
 * @param options cameras at feature resolution, one `T_nbr<-ref` pose per neighbour, inverse depths `[L]`/`[B,L]`
 * @returns `[B,H,W,L]` correlation per candidate, index 0 = first (far) candidate
 * @example
 * const cv = costVolume(f0, [f1], {
 *   intrinsics: [[65, 0, 36], [0, 65, 28], [0, 0, 1]],
 *   poses: [relativePose(c2w0, c2w1)],
 *   inverseDepths: inverseDepthCandidates(0.5, 10, 128),
 * }); // [1,56,72,128]
 */
export function costVolume(
  reference: tf.Tensor4D,
  neighbours: readonly tf.Tensor4D[],
  options: CostVolumeOptions,
): tf.Tensor4D {
  if (options == null || typeof options !== 'object') {
    throw new Error('options: required, {intrinsics, poses, inverseDepths}');
  }
  const implementation = options.implementation ?? 'auto';
  if (!IMPLEMENTATIONS.includes(implementation)) {
    throw new Error(`implementation: expected one of ${IMPLEMENTATIONS.join(', ')}, got '${implementation}'`);
  }
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) {
    throw new Error(`chunkSize: must be an integer >= 1, got ${chunkSize}`);
  }
  checkFeatures(reference, neighbours);
  const batch = reference.shape[0];
  const projs = projections(options.intrinsics, options.poses, neighbours.length, batch);
  const backend = tf.getBackend();
  const hasKernel = tf.getKernel(COST_VOLUME, backend) != null;
  if (implementation === 'fused' && !hasKernel) {
    throw new Error(
      `implementation: no fused '${COST_VOLUME}' kernel is registered for backend '${backend}'`,
    );
  }
  const fused = implementation === 'fused' || (implementation === 'auto' && hasKernel);

  return tf.tidy(() => {
    const inverseDepths = inverseDepthsTensor(options.inverseDepths, batch);
    let total: tf.Tensor4D | null = null;
    for (let i = 0; i < neighbours.length; i++) {
      const projection = tf.tensor2d(projs[i], [batch, 12]);
      const one = fused
        ? (tf.engine().runKernel(COST_VOLUME, {
            reference,
            neighbour: neighbours[i],
            projection,
            inverseDepths,
          }) as tf.Tensor4D)
        : costVolumeComposite(reference, neighbours[i], projection, inverseDepths, chunkSize);
      total = total === null ? one : tf.add<tf.Tensor4D>(total, one);
    }
    const sum = total as tf.Tensor4D;
    return neighbours.length === 1 ? sum : tf.div<tf.Tensor4D>(sum, tf.scalar(neighbours.length));
  });
}
