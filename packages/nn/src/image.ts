import * as tf from '@tensorflow/tfjs-core';

/**
 * The image contract between cvm packages: images travel as float32 RGB in `[0,1]`, channels last
 * (`[..., 3]`), and every model normalises its own input exactly once (with its own statistics).
 */

/** ImageNet RGB mean, for `[0,1]` images (UniMatch, SAK, DINOv3 LVD weights). */
export const IMAGENET_MEAN: readonly [number, number, number] = [0.485, 0.456, 0.406];
/** ImageNet RGB standard deviation, for `[0,1]` images. */
export const IMAGENET_STD: readonly [number, number, number] = [0.229, 0.224, 0.225];

/** Statistics of `normalizeImage`; ImageNet's by default. */
export interface NormalizeImageOptions {
  mean?: readonly [number, number, number];
  std?: readonly [number, number, number];
}

/**
 * `(x − mean) / std` per RGB channel: the one normalisation step of a model's input.
 * @param images `[..., 3]` float32 RGB in `[0,1]` (e.g. `[B,H,W,3]`, or a loader's `[B,V,H,W,3]`)
 * @returns the same shape
 * @example
 * normalizeImage(tf.fill([1, 8, 8, 3], 0.5)); // ≈ [0.066, 0.196, 0.418] per pixel
 */
export function normalizeImage(
  images: tf.Tensor,
  { mean = IMAGENET_MEAN, std = IMAGENET_STD }: NormalizeImageOptions = {},
): tf.Tensor {
  if (!(images instanceof tf.Tensor) || images.rank < 1 || images.shape[images.rank - 1] !== 3) {
    throw new Error(`normalizeImage: images must be [..., 3] RGB, got [${images?.shape}]`);
  }
  if (images.dtype !== 'float32') {
    throw new Error(`normalizeImage: images must be float32 RGB in [0,1], got ${images.dtype}`);
  }
  if (mean.length !== 3 || std.length !== 3 || !std.every((s) => s > 0)) {
    throw new Error(`normalizeImage: mean and std need 3 values each, std > 0; got [${mean}], [${std}]`);
  }
  return tf.tidy(() => tf.div(tf.sub(images, tf.tensor1d([...mean])), tf.tensor1d([...std])));
}

/** Values this far outside `[0,1]` fail `ImageRangeCheck` (resampling may overshoot a little). */
export const IMAGE_RANGE_TOLERANCE = 0.05;

/** Backends whose tensors live in host memory: reading two scalars there costs no device sync. */
const HOST_BACKENDS = new Set(['cpu', 'wasm', 'tensorflow']);

function rangeError(name: string, lo: number, hi: number, when = ''): Error {
  const hint =
    lo < -IMAGE_RANGE_TOLERANCE
      ? ' (already normalised? pass the [0,1] image; the model normalises it)'
      : hi > 2
        ? ' (0..255 values? divide by 255)'
        : '';
  return new Error(`${name}${when}: expected float32 RGB in [0,1], got values in [${lo}, ${hi}]${hint}`);
}

/**
 * A cheap check that model inputs follow the image contract (`[0,1]`, within
 * `IMAGE_RANGE_TOLERANCE`), without stalling a GPU: on host backends (`cpu`, `wasm`, `tensorflow`)
 * the min and max are read at once and a bad input throws immediately; on device backends (WebGPU,
 * WebGL) they are read asynchronously, and a bad input makes the NEXT `check` throw (a training loop
 * stops at its next step; call `await checkImageRange(...)` to check one input for sure).
 *
 * @example
 * const guard = new ImageRangeCheck();
 * guard.check(images, 'images[0]'); // throws "images[0]: expected float32 RGB in [0,1], got values in [0, 255] ..."
 */
export class ImageRangeCheck {
  private pending: Error | null = null;

  /** @param images any shape @param name the argument named in the error */
  check(images: tf.Tensor, name: string): void {
    this.throwPending();
    const minMax = tf.tidy(() => tf.stack([tf.min(images), tf.max(images)]));
    if (HOST_BACKENDS.has(tf.getBackend())) {
      const [lo, hi] = minMax.dataSync();
      minMax.dispose();
      if (!inRange(lo, hi)) throw rangeError(name, lo, hi);
      return;
    }
    minMax
      .data()
      .then(([lo, hi]) => {
        if (!inRange(lo, hi)) this.pending ??= rangeError(name, lo, hi, ' of an earlier call');
      })
      .catch(() => {}) // a failed read leaves nothing to report
      .finally(() => minMax.dispose());
  }

  /** Throws the error found by an earlier asynchronous check, if any (once). */
  throwPending(): void {
    const e = this.pending;
    this.pending = null;
    if (e) throw e;
  }
}

function inRange(lo: number, hi: number): boolean {
  return lo >= -IMAGE_RANGE_TOLERANCE && hi <= 1 + IMAGE_RANGE_TOLERANCE;
}

/**
 * Checks that `images` are in `[0,1]` (within `IMAGE_RANGE_TOLERANCE`), on any backend, reading the
 * min and max asynchronously.
 * @example await checkImageRange(batch.images, 'batch.images'); // rejects with a named error
 */
export async function checkImageRange(images: tf.Tensor, name: string): Promise<void> {
  const minMax = tf.tidy(() => tf.stack([tf.min(images), tf.max(images)]));
  const [lo, hi] = await minMax.data();
  minMax.dispose();
  if (!inRange(lo, hi)) throw rangeError(name, lo, hi);
}
