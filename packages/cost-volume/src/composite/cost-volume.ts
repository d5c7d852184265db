import { gridSample, planeSweepCoordinatesFromProjection } from '@cvm/geometry';
import * as tf from '@tensorflow/tfjs-core';

/** Candidates per chunk when the caller gives none: ~8·H·W·C floats of sampled features at a time. */
export const DEFAULT_CHUNK_SIZE = 8;

/**
 * Correlation of `reference` with `neighbour` sampled at candidates `[start, start+count)`, from stock
 * ops and `gridSample`: `[B,H,W,count]`. Differentiable w.r.t. the two feature maps.
 */
function chunkVolume(
  reference: tf.Tensor4D,
  neighbour: tf.Tensor4D,
  projection: tf.Tensor2D,
  inverseDepths: tf.Tensor2D,
  start: number,
  count: number,
): tf.Tensor4D {
  return tf.tidy(() => {
    const [batch, height, width, channels] = reference.shape;
    const inv = tf.slice(inverseDepths, [0, start], [batch, count]);
    // Pixel coordinates → align_corners=True normalised coordinates, as the references do (2u/(W−1) − 1).
    const pixels = planeSweepCoordinatesFromProjection(projection, inv, height, width);
    const scale = tf.tensor1d([2 / (width - 1), 2 / (height - 1)]);
    const grid = tf.reshape<tf.Rank.R4>(tf.sub(tf.mul(pixels, scale), 1), [batch, count * height, width, 2]);
    const warped = gridSample(neighbour, grid, { mode: 'bilinear', paddingMode: 'zeros', alignCorners: true });
    const product = tf.mul(tf.reshape(warped, [batch, count, height, width, channels]), tf.expandDims(reference, 1));
    const volume = tf.div(tf.sum(product, 4), Math.sqrt(channels)) as tf.Tensor4D;
    return tf.transpose(volume, [0, 2, 3, 1]);
  });
}

/**
 * `tf.grads` inside a gradient function: tfjs's engine replaces (and finally nulls) the active tape when a
 * gradient is taken while none is being recorded, which is the case while the outer backward pass runs,
 * and the outer pass then fails. Keep the outer tape aside while the inner gradient runs.
 */
function gradsInsideBackward(f: (...xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[], dy: tf.Tensor): tf.Tensor[] {
  const state = tf.engine().state;
  const outerTape = state.activeTape;
  try {
    return tf.grads(f)(xs, dy);
  } finally {
    state.activeTape = outerTape;
  }
}

/**
 * Cost volume of one neighbour from stock ops (for backends without a fused kernel), chunked over the
 * candidates so that neither the forward nor the backward pass ever holds more than `chunkSize`
 * candidates' sampled features (`chunkSize·H·W·C` floats): the backward pass recomputes each chunk and
 * takes its gradient chunk by chunk. Same contract as the `CvmCostVolume` kernel.
 * @param reference `[B,H,W,C]`
 * @param neighbour `[B,H,W,C]`
 * @param projection `[B,12]` from `planeSweepProjection` (no gradient)
 * @param inverseDepths `[B,L]` (no gradient)
 * @returns `[B,H,W,L]`
 * @example costVolumeComposite(ref, nbr, tf.tensor2d(planeSweepProjection(K, T, 1).data, [1, 12]), inv, 8)
 */
export function costVolumeComposite(
  reference: tf.Tensor4D,
  neighbour: tf.Tensor4D,
  projection: tf.Tensor2D,
  inverseDepths: tf.Tensor2D,
  chunkSize = DEFAULT_CHUNK_SIZE,
): tf.Tensor4D {
  const depths = inverseDepths.shape[1];
  const chunks: Array<[number, number]> = [];
  for (let start = 0; start < depths; start += chunkSize) chunks.push([start, Math.min(chunkSize, depths - start)]);

  // The cameras and depths are inputs too so that `save` keeps them alive for the backward pass (the
  // caller may dispose them); like the kernel, they get zero gradients. customGrad's typing passes the
  // inputs and `save` through one rest parameter.
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [ref, nbr, proj, inv, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
    save([ref, nbr, proj, inv]);
    const parts = chunks.map(([start, count]) => chunkVolume(ref, nbr, proj, inv, start, count));
    const value = parts.length === 1 ? parts[0] : tf.concat(parts, 3);
    return {
      value,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [r, n, p, d] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor2D, tf.Tensor2D];
        const g = dy as tf.Tensor4D;
        let dRef: tf.Tensor = tf.zerosLike(r);
        let dNbr: tf.Tensor = tf.zerosLike(n);
        for (const [start, count] of chunks) {
          const [gr, gn] = tf.tidy(() => {
            const dyChunk = tf.slice(g, [0, 0, 0, start], [-1, -1, -1, count]);
            return gradsInsideBackward(
              (a, b) => chunkVolume(a as tf.Tensor4D, b as tf.Tensor4D, p, d, start, count),
              [r, n],
              dyChunk,
            );
          });
          const nextRef = tf.add(dRef, gr);
          const nextNbr = tf.add(dNbr, gn);
          tf.dispose([dRef, dNbr, gr, gn]);
          dRef = nextRef;
          dNbr = nextNbr;
        }
        return [dRef, dNbr, tf.zerosLike(p), tf.zerosLike(d)];
      },
    };
  });
  return op(reference, neighbour, projection, inverseDepths) as tf.Tensor4D;
}
