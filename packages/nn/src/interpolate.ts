import * as tf from '@tensorflow/tfjs-core';

/**
 * The `[outSize, inSize]` matrix of PyTorch's 1-D linear interpolation with `align_corners=False`
 * (`area_pixel_compute_source_index`): output `o` reads `src = max(0, (o + 0.5)·in/out − 0.5)`, i.e.
 * `(1 − λ)·x[i0] + λ·x[min(i0 + 1, in − 1)]` with `i0 = floor(src)`, `λ = src − i0`. Downsampling
 * takes the same two taps (no antialiasing), as PyTorch does.
 */
export function bilinearMatrixData(inSize: number, outSize: number): Float32Array {
  const m = new Float32Array(outSize * inSize);
  const scale = Math.fround(inSize / outSize);
  for (let o = 0; o < outSize; o++) {
    const src = Math.max(0, Math.fround(Math.fround(scale * (o + 0.5)) - 0.5));
    const i0 = Math.min(Math.floor(src), inSize - 1);
    const i1 = Math.min(i0 + 1, inSize - 1);
    const lambda = Math.fround(src - i0);
    m[o * inSize + i0] += 1 - lambda;
    m[o * inSize + i1] += lambda;
  }
  return m;
}

/**
 * Applies `rows` `[Ho,H]` along H and `cols` `[Wo,W]` along W of `[B,H,W,C]` (or their transposes),
 * as two batched matMuls: exact, differentiable and available on every backend.
 */
function separable(x: tf.Tensor4D, rows: tf.Tensor2D, cols: tf.Tensor2D, transpose: boolean): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const ho = transpose ? rows.shape[1] : rows.shape[0];
  const wo = transpose ? cols.shape[1] : cols.shape[0];
  const alongH = tf.matMul(
    tf.tile(tf.expandDims(rows, 0), [b, 1, 1]) as tf.Tensor3D,
    tf.reshape(x, [b, h, w * c]) as tf.Tensor3D,
    transpose,
  );
  const alongW = tf.matMul(
    tf.tile(tf.expandDims(cols, 0), [b * ho, 1, 1]) as tf.Tensor3D,
    tf.reshape(alongH, [b * ho, w, c]) as tf.Tensor3D,
    transpose,
  );
  return tf.reshape(alongW, [b, ho, wo, c]);
}

/**
 * Bilinear resize of NHWC maps to `size`, equal to PyTorch's
 * `F.interpolate(x, size, mode='bilinear', align_corners=False)` in value and in gradient on every
 * backend, up- and downsampling alike. The forward is tfjs's `resizeBilinear` with `halfPixelCenters`
 * (same formula, a fused kernel per backend); the gradient is the transposed interpolation applied as
 * two matMuls, because tfjs's `ResizeBilinearGrad` ignores `halfPixelCenters` and differs from PyTorch's.
 * Only `size` is supported: PyTorch's `scale_factor` without `recompute_scale_factor` uses `1/scale`
 * instead of `in/out`, which differs when the sizes are not divisible.
 * @param x `[B,H,W,C]` float32
 * @param size `[Ho, Wo]`
 * @returns `[B,Ho,Wo,C]`
 * @example
 * interpolateBilinear(tf.zeros([1, 28, 36, 256]), [112, 144]).shape; // [1, 112, 144, 256]
 */
export function interpolateBilinear(x: tf.Tensor, size: readonly [number, number]): tf.Tensor4D {
  if (x.rank !== 4) throw new Error(`interpolateBilinear: x must be [B,H,W,C], got [${x.shape}]`);
  if (x.dtype !== 'float32') throw new Error(`interpolateBilinear: x must be float32, got ${x.dtype}`);
  if (!Array.isArray(size) || size.length !== 2 || !size.every((n) => Number.isInteger(n) && n > 0)) {
    throw new Error(
      `interpolateBilinear: size must be [Ho, Wo] of positive integers, got ${JSON.stringify(size)}`,
    );
  }
  const [, h, w] = x.shape;
  const [ho, wo] = size;
  if (h === ho && w === wo) return tf.clone(x) as tf.Tensor4D;
  // customGrad's typing passes the save function among the inputs; only the first argument is x.
  const resize = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    return {
      value: tf.image.resizeBilinear(args[0] as tf.Tensor4D, [ho, wo], false, true),
      gradFunc: (dy: tf.Tensor) =>
        tf.tidy(() => {
          const rows = tf.tensor2d(bilinearMatrixData(h, ho), [ho, h]);
          const cols = tf.tensor2d(bilinearMatrixData(w, wo), [wo, w]);
          return separable(dy as tf.Tensor4D, rows, cols, true);
        }),
    };
  });
  return resize(x as tf.Tensor) as tf.Tensor4D;
}
