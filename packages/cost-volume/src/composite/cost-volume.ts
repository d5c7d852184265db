import { gridSample, gridSampleInputGrad, planeSweepCoordinatesFromProjection } from '@cvm/geometry';
import * as tf from '@tensorflow/tfjs-core';

/** Candidates per chunk when the caller gives none: ~8·H·W·C floats of sampled features at a time. */
export const DEFAULT_CHUNK_SIZE = 8;

const SAMPLING = { mode: 'bilinear', paddingMode: 'zeros', alignCorners: true } as const;

/**
 * The `gridSample` grid of candidates `[start, start+count)`: `[B, H, W·count, 2]`, laid out so that each
 * pixel's samples are contiguous (the correlation is then a batched matMul per pixel, with no
 * broadcasting of the large sampled tensor). Pixel coordinates → align_corners=True normalised
 * coordinates, as the references do (2u/(W−1) − 1).
 */
function chunkGrid(
  projection: tf.Tensor2D,
  inverseDepths: tf.Tensor2D,
  height: number,
  width: number,
  start: number,
  count: number,
): tf.Tensor4D {
  return tf.tidy(() => {
    const batch = inverseDepths.shape[0];
    const slice = tf.slice(inverseDepths, [0, start], [batch, count]);
    // As the kernels: a candidate that is not finite and > 0 samples nothing (NaN coordinates read 0).
    const usable = tf.logicalAnd(tf.greater(slice, 0), tf.less(slice, Number.POSITIVE_INFINITY));
    const inv = tf.where(usable, slice, tf.fill(slice.shape, Number.NaN)) as tf.Tensor2D;
    // (Rank 4 before any arithmetic: tfjs-backend-webgpu 4.22 emits invalid WGSL for rank-5 broadcasts.)
    const pixels = tf.reshape<tf.Rank.R4>(
      tf.transpose(planeSweepCoordinatesFromProjection(projection, inv, height, width), [0, 2, 3, 1, 4]),
      [batch, height, width * count, 2],
    );
    const scale = tf.tensor1d([2 / (width - 1), 2 / (height - 1)]);
    return tf.sub(tf.mul(pixels, scale), 1) as tf.Tensor4D;
  });
}

/** A per-pixel tensor as `[B·H·W, rows, cols]` (one small matrix per reference pixel). */
function perPixel(t: tf.Tensor, rows: number, cols: number): tf.Tensor3D {
  return tf.reshape(t, [-1, rows, cols]);
}

/**
 * Correlation of `reference` with `neighbour` sampled on `grid` (one chunk of `count` candidates):
 * `[B,H,W,count]`.
 */
function chunkVolume(
  reference: tf.Tensor4D,
  neighbour: tf.Tensor4D,
  grid: tf.Tensor4D,
  count: number,
): tf.Tensor4D {
  return tf.tidy(() => {
    const [batch, height, width, channels] = reference.shape;
    const warped = gridSample(neighbour, grid, SAMPLING);
    const dots = tf.matMul(perPixel(warped, count, channels), perPixel(reference, channels, 1));
    return tf.reshape<tf.Rank.R4>(tf.div(dots, Math.sqrt(channels)), [batch, height, width, count]);
  });
}

/**
 * Gradients of {@link chunkVolume} for the upstream `dy` `[B,H,W,count]`, written out (tfjs does not
 * support a nested `tf.grads` inside a gradient function): with `warped` the sampled neighbour,
 * dReference = Σ_l dy_l·warped_l/√C, and dNeighbour is the transposed sampling of dy_l·reference/√C.
 */
function chunkGradients(
  dy: tf.Tensor4D,
  reference: tf.Tensor4D,
  neighbour: tf.Tensor4D,
  grid: tf.Tensor4D,
  count: number,
): [tf.Tensor4D, tf.Tensor4D] {
  return tf.tidy(() => {
    const [batch, height, width, channels] = reference.shape;
    // Scale the small dy, not the two products.
    const g = tf.mul(dy, 1 / Math.sqrt(channels));
    const warped = gridSample(neighbour, grid, SAMPLING);
    const dRef = tf.matMul(perPixel(g, 1, count), perPixel(warped, count, channels));
    tf.dispose(warped); // before dWarped, of the same size, is made
    const dWarped = tf.matMul(perPixel(g, count, 1), perPixel(reference, 1, channels));
    const dNbr = gridSampleInputGrad(
      tf.reshape(dWarped, [batch, height, width * count, channels]),
      neighbour,
      grid,
      SAMPLING,
    );
    return [tf.reshape(dRef, reference.shape) as tf.Tensor4D, dNbr];
  });
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
  for (let start = 0; start < depths; start += chunkSize)
    chunks.push([start, Math.min(chunkSize, depths - start)]);

  // The cameras and depths are inputs too so that `save` keeps them alive for the backward pass (the
  // caller may dispose them); like the kernel, they get zero gradients. customGrad's typing passes the
  // inputs and `save` through one rest parameter.
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [ref, nbr, proj, inv, save] = args as [
      tf.Tensor4D,
      tf.Tensor4D,
      tf.Tensor2D,
      tf.Tensor2D,
      tf.GradSaveFunc,
    ];
    save([ref, nbr, proj, inv]);
    const [, height, width] = ref.shape;
    const parts = chunks.map(([start, count]) =>
      tf.tidy(() => chunkVolume(ref, nbr, chunkGrid(proj, inv, height, width, start, count), count)),
    );
    const value = parts.length === 1 ? parts[0] : tf.concat(parts, 3);
    return {
      value,
      // Recomputes each chunk's samples (never all of them at once) and applies its gradient directly.
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [r, n, p, d] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor2D, tf.Tensor2D];
        const g = dy as tf.Tensor4D;
        let dRef: tf.Tensor = tf.zerosLike(r);
        let dNbr: tf.Tensor = tf.zerosLike(n);
        for (const [start, count] of chunks) {
          const [gr, gn] = tf.tidy(() =>
            chunkGradients(
              tf.slice(g, [0, 0, 0, start], [-1, -1, -1, count]),
              r,
              n,
              chunkGrid(p, d, height, width, start, count),
              count,
            ),
          );
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
