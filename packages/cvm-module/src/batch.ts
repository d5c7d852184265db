import { readMatrices } from '@cvm/geometry';
import * as tf from '@tensorflow/tfjs-core';
import type { CvmCameras } from './cameras.js';

/**
 * A batch of multi-view samples with their cameras, as `batchToTensors` of `@cvm/datasets/tfjs` gives
 * it. The contract is structural: any object with these fields fits (extra fields, such as the
 * loader's `labels`, are ignored), so the loader and the model need not know each other.
 */
export interface MultiViewBatch {
  /** `[B,V,H,W,3]` float32 RGB in `[0,1]`, view 0 the reference; NOT normalised (the model does it). */
  images: tf.Tensor;
  /**
   * `[B,V,3,3]` pinhole intrinsics in pixels of `images`: a tensor, or a flat row-major array of
   * `B·V·9` numbers (read on the CPU: on WebGPU pass arrays or tensors made from host arrays).
   */
  intrinsics: tf.Tensor | ArrayLike<number>;
  /** `[B,V,4,4]` OpenCV camera-to-world poses, a tensor or a flat row-major array of `B·V·16`. */
  cameraToWorld: tf.Tensor | ArrayLike<number>;
}

/** Per-view inputs of `CrossViewModule.forward` made from a `MultiViewBatch`. */
export interface SplitMultiViewBatch {
  /** One `[B,H,W,3]` image per view (new tensors, owned by the caller). */
  images: tf.Tensor4D[];
  /** One `[B·9]` intrinsics and one `[B·16]` pose array per view. */
  cameras: CvmCameras;
}

/** `[B,V,R,C]` (tensor or flat array) → one row-major `[B·R·C]` array per view. */
function perView(
  input: tf.Tensor | ArrayLike<number>,
  batch: number,
  views: number,
  rows: number,
  cols: number,
  name: string,
): Float64Array[] {
  const per = rows * cols;
  let m: { data: Float64Array };
  if (input instanceof tf.Tensor) {
    const want = [batch, views, rows, cols];
    if (input.shape.join() !== want.join()) {
      throw new Error(`${name}: expected shape [${want}] (B,V from batch.images), got [${input.shape}]`);
    }
    const flat = tf.reshape(input, [batch * views, rows, cols]);
    try {
      m = readMatrices(flat, rows, cols, name);
    } finally {
      flat.dispose();
    }
  } else {
    if (input == null || typeof input.length !== 'number') {
      throw new Error(`${name}: expected a [B,V,${rows},${cols}] tensor or a flat array`);
    }
    if (input.length !== batch * views * per) {
      throw new Error(
        `${name}: a flat array must hold B·V·${per} = ${batch * views * per} numbers, got ${input.length}`,
      );
    }
    m = readMatrices(input, rows, cols, name);
  }
  return Array.from({ length: views }, (_, v) => {
    const out = new Float64Array(batch * per);
    for (let b = 0; b < batch; b++) {
      const from = (b * views + v) * per;
      out.set(m.data.subarray(from, from + per), b * per);
    }
    return out;
  });
}

/**
 * The adapter from a loader batch to `CrossViewModule.forward`'s arguments: per-view `[B,H,W,3]`
 * images and per-view cameras (intrinsics stay in image pixels; the module scales them to its
 * features). `CrossViewModule.forwardBatch` calls it; use it directly for `forwardWithIntermediates`.
 *
 * @example
 * const { images, cameras } = splitMultiViewBatch(batchToTensors(batch));
 * const r = cvm.forwardWithIntermediates(images, cameras);
 * tf.dispose(images);
 */
export function splitMultiViewBatch(batch: MultiViewBatch): SplitMultiViewBatch {
  if (batch == null || typeof batch !== 'object') {
    throw new Error('batch: expected {images [B,V,H,W,3], intrinsics [B,V,3,3], cameraToWorld [B,V,4,4]}');
  }
  const { images } = batch;
  if (!(images instanceof tf.Tensor) || images.rank !== 5 || images.shape[4] !== 3) {
    throw new Error(
      `batch.images: expected a [B,V,H,W,3] tensor, got ${images instanceof tf.Tensor ? `[${images.shape}]` : typeof images}`,
    );
  }
  const [b, v, h, w] = images.shape;
  const intrinsics = perView(batch.intrinsics, b, v, 3, 3, 'batch.intrinsics');
  const cameraToWorld = perView(batch.cameraToWorld, b, v, 4, 4, 'batch.cameraToWorld');
  // Rank ≤ 3 slices (tfjs-webgpu shaders stop at rank 4); the reshapes cost nothing.
  const views = tf.tidy(() => {
    const flat = tf.reshape(images, [b, v, h * w * 3]);
    return Array.from(
      { length: v },
      (_, i) => tf.reshape(tf.slice(flat, [0, i, 0], [b, 1, h * w * 3]), [b, h, w, 3]) as tf.Tensor4D,
    );
  });
  return { images: views, cameras: { intrinsics, cameraToWorld } };
}
