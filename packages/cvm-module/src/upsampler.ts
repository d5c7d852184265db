import { Conv2d, Module } from '@cvm/nn';
import * as tf from '@tensorflow/tfjs-core';

/** Which learned upsampler `CrossViewModule` uses. */
export type UpsamplerKind = 'convex' | 'pixelShuffle';

/** Edge-replicating pad of one pixel on each side of `[B,h,w,C]` (differentiable: slices + concat). */
function padReplicate1(x: tf.Tensor4D): tf.Tensor4D {
  const [, h, w] = x.shape;
  const rows = tf.concat(
    [tf.slice(x, [0, 0, 0, 0], [-1, 1, -1, -1]), x, tf.slice(x, [0, h - 1, 0, 0], [-1, 1, -1, -1])],
    1,
  );
  return tf.concat(
    [tf.slice(rows, [0, 0, 0, 0], [-1, -1, 1, -1]), rows, tf.slice(rows, [0, 0, w - 1, 0], [-1, -1, 1, -1])],
    2,
  ) as tf.Tensor4D;
}

/**
 * `[B·h·w, f², C]` (sub-pixel `i·f + j` of coarse pixel `(y, x)`) → `[B, f·h, f·w, C]`, at rank ≤ 4
 * (WebGPU shaders stop at vec4).
 */
function subPixelsToImage(up: tf.Tensor, b: number, h: number, w: number, factor: number): tf.Tensor4D {
  const c = up.shape[2] as number;
  // [B·h, w, i, (j, C)] → [B·h, i, w, (j, C)] = [B, h·f, w·f, C] in memory order
  const rows = tf.transpose(tf.reshape(up, [b * h, w, factor, factor * c]), [0, 2, 1, 3]);
  return tf.reshape(rows, [b, h * factor, w * factor, c]);
}

/**
 * Convex upsampling (RAFT / UniMatch `upsample_flow_with_mask`): each fine pixel is a convex
 * combination of the 3×3 coarse neighbours of its coarse pixel.
 * @param x `[B,h,w,C]` coarse map
 * @param mask `[B,h,w,9·f²]` logits, channel `n·f² + i·f + j` for tap `n` (offset `(n/3−1, n%3−1)`)
 *   and sub-pixel `(i, j)`; softmax is taken over the 9 taps
 * @param factor `f`
 * @returns `[B,f·h,f·w,C]`, `out[b, y·f+i, x·f+j] = Σ_n softmax(mask)[n,i,j]·x[y+dy_n, x+dx_n]`
 *   with edge replication outside the map (UniMatch pads with zeros, which pulls a cost volume's border
 *   toward 0; replication keeps the border's values, and the combination stays convex)
 * @example
 * convexUpsample(tf.randomNormal([1, 4, 6, 8]), tf.zeros([1, 4, 6, 144]), 4).shape; // [1, 16, 24, 8]
 */
export function convexUpsample(x: tf.Tensor4D, mask: tf.Tensor4D, factor: number): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const f2 = factor * factor;
  if (
    mask.rank !== 4 ||
    mask.shape[0] !== b ||
    mask.shape[1] !== h ||
    mask.shape[2] !== w ||
    mask.shape[3] !== 9 * f2
  ) {
    throw new Error(`convexUpsample: mask must be [${b},${h},${w},${9 * f2}], got [${mask.shape}]`);
  }
  return tf.tidy(() => {
    const weights = tf.softmax(tf.transpose(tf.reshape(mask, [b * h * w, 9, f2]), [0, 2, 1])); // [N, f², 9]
    const padded = padReplicate1(x);
    const taps: tf.Tensor[] = [];
    for (let dy = 0; dy < 3; dy++) {
      for (let dx = 0; dx < 3; dx++)
        taps.push(tf.reshape(tf.slice(padded, [0, dy, dx, 0], [b, h, w, c]), [b * h * w, 1, c]));
    }
    const neighbours = tf.concat(taps, 1); // [N, 9, C]
    return subPixelsToImage(tf.matMul(weights, neighbours), b, h, w, factor);
  });
}

/**
 * `torch.nn.functional.pixel_shuffle` on NHWC: input channel `c·f² + i·f + j` goes to output channel
 * `c` at sub-pixel `(i, j)`.
 * @param x `[B,h,w,C·f²]` @returns `[B,f·h,f·w,C]`
 * @example pixelShuffle(tf.zeros([1, 4, 4, 32]), 4).shape; // [1, 16, 16, 2]
 */
export function pixelShuffle(x: tf.Tensor4D, factor: number): tf.Tensor4D {
  const [b, h, w, cf] = x.shape;
  const f2 = factor * factor;
  if (cf % f2 !== 0) throw new Error(`pixelShuffle: ${cf} channels are not divisible by ${f2}`);
  const c = cf / f2;
  return tf.tidy(() =>
    subPixelsToImage(tf.transpose(tf.reshape(x, [b * h * w, c, f2]), [0, 2, 1]), b, h, w, factor),
  );
}

/** Options of the upsamplers. */
export interface UpsamplerOptions {
  /** Upsampling factor. Default 4 (1/8 → 1/2). */
  factor?: number;
  /** Hidden width of the 3×3 conv. Default 256 (UniMatch's). */
  hidden?: number;
}

/**
 * Learned convex upsampler, UniMatch's head at factor `f`: `0` Conv3×3(C→hidden) → ReLU → `2`
 * Conv1×1(hidden→9·f²) predicts per-pixel 3×3 combination weights from the map itself, which then
 * upsample every channel of the map (`convexUpsample`). Parameters `0.weight|bias`, `2.weight|bias`:
 * 627,088 for C = 256, f = 4. The channel count is unchanged.
 * @example
 * new ConvexUpsampler(256).forward(tf.zeros([1, 56, 72, 256])).shape; // [1, 224, 288, 256]
 */
export class ConvexUpsampler extends Module {
  readonly factor: number;
  readonly conv1: Conv2d;
  readonly conv2: Conv2d;
  constructor(
    readonly channels: number,
    { factor = 4, hidden = 256 }: UpsamplerOptions = {},
  ) {
    super();
    if (!Number.isInteger(factor) || factor < 1)
      throw new Error(`ConvexUpsampler: factor must be a positive integer, got ${factor}`);
    this.factor = factor;
    this.conv1 = this.registerModule('0', new Conv2d(channels, hidden, 3, { padding: 1 }));
    this.conv2 = this.registerModule('2', new Conv2d(hidden, 9 * factor * factor, 1));
  }
  /** @param x `[B,h,w,C]` @returns `[B,f·h,f·w,C]` */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.combine(x, this.predict(x)));
  }
  /** The conv branch: `[B,h,w,C]` → the combination logits `[B,h,w,9·f²]` (`forward = combine(x, predict(x))`). */
  predict(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.conv2.forward(tf.relu(this.conv1.forward(x))));
  }
  /** `convexUpsample(x, mask)` at this factor; per sample, so it may run on a slice of the batch. */
  combine(x: tf.Tensor4D, mask: tf.Tensor4D): tf.Tensor4D {
    return convexUpsample(x, mask, this.factor);
  }
}

/**
 * Learned conv + pixel-shuffle upsampler (the alternative): `0` Conv3×3(C→hidden) → ReLU → `2`
 * Conv1×1(hidden→C·f²) → `pixelShuffle(f)`. Parameters `0.weight|bias`, `2.weight|bias`: 1,642,752
 * for C = 256, hidden 256, f = 4 — 2.6× the convex head, and its output is not tied to the input's
 * values (every output channel is a fresh linear map).
 * @example
 * new PixelShuffleUpsampler(256).forward(tf.zeros([1, 56, 72, 256])).shape; // [1, 224, 288, 256]
 */
export class PixelShuffleUpsampler extends Module {
  readonly factor: number;
  readonly conv1: Conv2d;
  readonly conv2: Conv2d;
  constructor(
    readonly channels: number,
    { factor = 4, hidden = 256 }: UpsamplerOptions = {},
  ) {
    super();
    if (!Number.isInteger(factor) || factor < 1) {
      throw new Error(`PixelShuffleUpsampler: factor must be a positive integer, got ${factor}`);
    }
    this.factor = factor;
    this.conv1 = this.registerModule('0', new Conv2d(channels, hidden, 3, { padding: 1 }));
    this.conv2 = this.registerModule('2', new Conv2d(hidden, channels * factor * factor, 1));
  }
  /** @param x `[B,h,w,C]` @returns `[B,f·h,f·w,C]` */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.combine(x, this.predict(x)));
  }
  /** The conv branch: `[B,h,w,C]` → `[B,h,w,C·f²]` sub-pixel channels (`forward = combine(x, predict(x))`). */
  predict(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.conv2.forward(tf.relu(this.conv1.forward(x))));
  }
  /** `pixelShuffle(subPixels)` at this factor (`x` is not needed; the signature is `ConvexUpsampler`'s). */
  combine(_x: tf.Tensor4D, subPixels: tf.Tensor4D): tf.Tensor4D {
    return pixelShuffle(subPixels, this.factor);
  }
}
