import * as tf from '@tensorflow/tfjs-core';
import { kaimingUniform, uniform } from './init.js';
import { Module } from './module.js';

type Pair = number | readonly [number, number];

function pair(name: string, v: Pair, min: number): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (p.length !== 2 || !p.every((n) => Number.isInteger(n) && n >= min)) {
    throw new Error(
      `Conv2d: ${name} must be an integer >= ${min} or a pair of them, got ${JSON.stringify(v)}`,
    );
  }
  return p;
}

/** Hyper-parameters of `conv2d` / `Conv2d`, with PyTorch's meaning and defaults. */
export interface Conv2dOptions {
  /** Stride `s` or `[sh, sw]`. Default 1. */
  stride?: Pair;
  /** Symmetric zero padding `p` or `[ph, pw]` on each side (PyTorch's `padding`). Default 0. */
  padding?: Pair;
  /** Dilation `d` or `[dh, dw]`. Default 1. */
  dilation?: Pair;
  /** Channel groups (PyTorch's `groups`): `in` and `out` must be divisible by it. Default 1. */
  groups?: number;
  /** How the padding is filled: `'zeros'` (default) or `'reflect'`. */
  paddingMode?: 'zeros' | 'reflect';
}

/**
 * Inserts `d−1` zeros between kernel taps along `axis` (0 = kh, 1 = kw) so a dilated conv becomes a
 * plain one: tfjs has no gradients for dilation > 1, while reshape/pad/slice all have them.
 */
function dilateKernel(w: tf.Tensor4D, d: number, axis: 0 | 1): tf.Tensor4D {
  if (d === 1) return w;
  const [kh, kw, i, o] = w.shape;
  const k = axis === 0 ? kh : kw;
  const split = axis === 0 ? [kh, 1, kw, i, o] : [kh, kw, 1, i, o];
  const padding: [number, number][] = split.map(() => [0, 0]);
  padding[axis + 1] = [0, d - 1];
  const spread = tf.pad(tf.reshape(w, split), padding);
  const full = tf.reshape(spread, axis === 0 ? [kh * d, kw, i, o] : [kh, kw * d, i, o]) as tf.Tensor4D;
  const size = axis === 0 ? [(k - 1) * d + 1, kw, i, o] : [kh, (k - 1) * d + 1, i, o];
  return tf.slice(full, [0, 0, 0, 0], size);
}

/** Largest im2col patch matrix (elements) built on the cpu backend before falling back to tfjs's gradient. */
const IM2COL_MAX_ELEMENTS = 2 ** 26;

/**
 * Whether a stride-1 'valid' convolution takes the weight gradient from an im2col matMul: on the cpu
 * backend only, whose `Conv2DBackpropFilter` reads every element through `TensorBuffer.get` and is
 * 10-20× slower than the matMul (it dominated training steps); other backends keep their kernels.
 */
function useIm2colGradient(x: tf.Tensor4D, w: tf.Tensor4D, stride: [number, number]): boolean {
  if (stride[0] !== 1 || stride[1] !== 1 || tf.getBackend() !== 'cpu') return false;
  const [b, h, width, c] = x.shape;
  const [kh, kw] = w.shape;
  return b * (h - kh + 1) * (width - kw + 1) * kh * kw * c <= IM2COL_MAX_ELEMENTS;
}

/** `[B·Ho·Wo, kh·kw·C]` patches of a stride-1 'valid' convolution, channel order (i, j, c) as the weight's. */
function im2col(x: tf.Tensor4D, kh: number, kw: number): tf.Tensor2D {
  const [b, h, width, c] = x.shape;
  const ho = h - kh + 1;
  const wo = width - kw + 1;
  const taps: tf.Tensor[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) taps.push(kh * kw === 1 ? x : tf.slice(x, [0, i, j, 0], [b, ho, wo, c]));
  }
  const patches = taps.length === 1 ? taps[0] : tf.concat(taps, 3);
  return tf.reshape(patches, [b * ho * wo, kh * kw * c]);
}

/**
 * Stride-1 'valid' `tf.conv2d` whose gradients are tfjs's input gradient (`conv2dTranspose`, fast on
 * cpu) and the weight gradient as one matMul `im2col(x)ᵀ · dy`.
 */
const conv2dValidIm2colGrad = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const x = args[0] as tf.Tensor4D;
  const w = args[1] as tf.Tensor4D;
  const save = args[2] as tf.GradSaveFunc;
  save([x, w]);
  return {
    value: tf.conv2d(x, w, 1, 'valid'),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as [tf.Tensor4D, tf.Tensor4D];
      const [kh, kw, c, out] = ws.shape;
      const dx = tf.conv2dTranspose(dy as tf.Tensor4D, ws, xs.shape, 1, 'valid');
      const dyFlat = tf.reshape(dy, [-1, out]) as tf.Tensor2D;
      const dw = tf.reshape(tf.matMul(im2col(xs, kh, kw), dyFlat, true, false), [kh, kw, c, out]);
      return [dx, dw];
    },
  };
});

/**
 * 2-D convolution with PyTorch's semantics on NHWC tensors: explicit symmetric padding then a
 * 'valid' convolution, so strided convs sample the same pixels as `torch.nn.functional.conv2d`
 * (TF's 'same' pads asymmetrically). Differentiable in `x`, `weight` and `bias` for every option.
 *
 * @param x `[B,H,W,in]`
 * @param weight `[kh,kw,in/groups,out]` (tfjs layout of PyTorch's `[out,in/groups,kh,kw]`)
 * @param bias `[out]` or null
 * @returns `[B,Ho,Wo,out]`, `Ho = floor((H + 2ph − dh·(kh−1) − 1)/sh) + 1`
 * @example
 * const y = conv2d(tf.zeros([1, 9, 9, 3]), tf.ones([3, 3, 3, 8]), null, { stride: 2, padding: 1 }); // [1,5,5,8]
 */
export function conv2d(
  x: tf.Tensor,
  weight: tf.Tensor,
  bias: tf.Tensor | null = null,
  options: Conv2dOptions = {},
): tf.Tensor4D {
  const stride = pair('stride', options.stride ?? 1, 1);
  const padding = pair('padding', options.padding ?? 0, 0);
  const dilation = pair('dilation', options.dilation ?? 1, 1);
  const groups = options.groups ?? 1;
  if (x.rank !== 4) throw new Error(`conv2d: x must be [B,H,W,C], got shape [${x.shape}]`);
  const [, height, width, channels] = x.shape as [number, number, number, number];
  if (weight.rank !== 4)
    throw new Error(`conv2d: weight must be [kh,kw,in/groups,out], got [${weight.shape}]`);
  const [kh, kw, inPerGroup, out] = weight.shape;
  if (!Number.isInteger(groups) || groups < 1 || out % groups !== 0 || inPerGroup * groups !== channels) {
    throw new Error(
      `conv2d: x has ${channels} channels but weight [${weight.shape}] with groups=${groups} expects ${inPerGroup * groups} (and out divisible by groups)`,
    );
  }
  if (bias !== null && (bias.rank !== 1 || bias.shape[0] !== out)) {
    throw new Error(`conv2d: bias must be [${out}], got [${bias.shape}]`);
  }
  const paddedH = height + 2 * padding[0];
  const paddedW = width + 2 * padding[1];
  if (paddedH < dilation[0] * (kh - 1) + 1 || paddedW < dilation[1] * (kw - 1) + 1) {
    throw new Error(`conv2d: padded input ${paddedH}x${paddedW} is smaller than the dilated kernel`);
  }
  if (options.paddingMode === 'reflect' && (padding[0] >= height || padding[1] >= width)) {
    throw new Error(`conv2d: reflect padding ${padding} must be smaller than the input ${height}x${width}`);
  }
  return tf.tidy(() => {
    const pads: [number, number][] = [
      [0, 0],
      [padding[0], padding[0]],
      [padding[1], padding[1]],
      [0, 0],
    ];
    let xp = x as tf.Tensor4D;
    if (padding[0] > 0 || padding[1] > 0) {
      xp = options.paddingMode === 'reflect' ? tf.mirrorPad(xp, pads, 'reflect') : tf.pad(xp, pads);
    }
    const w = dilateKernel(dilateKernel(weight as tf.Tensor4D, dilation[0], 0), dilation[1], 1);
    let y: tf.Tensor4D;
    if (groups === 1) {
      y = useIm2colGradient(xp, w, stride)
        ? (conv2dValidIm2colGrad(xp, w) as tf.Tensor4D)
        : (tf.conv2d(xp, w, stride, 'valid') as tf.Tensor4D);
    } else if (inPerGroup === 1 && groups === channels) {
      // Depthwise: output channel c·m + j reads input channel c, the same order as PyTorch's groups.
      const depthwise = tf.reshape(w, [w.shape[0], w.shape[1], channels, out / channels]) as tf.Tensor4D;
      y = tf.depthwiseConv2d(xp, depthwise, stride, 'valid') as tf.Tensor4D;
    } else {
      const xs = tf.split(xp, groups, 3);
      const ws = tf.split(w, groups, 3);
      y = tf.concat(
        xs.map((xg, g) => tf.conv2d(xg as tf.Tensor4D, ws[g] as tf.Tensor4D, stride, 'valid')),
        3,
      );
    }
    return bias === null ? y : (tf.add(y, bias) as tf.Tensor4D);
  });
}

/**
 * `torch.nn.Conv2d` on NHWC tensors. Parameters: `weight` `[kh,kw,in/groups,out]` (layout `'conv2d'`,
 * converted from PyTorch's `[out,in/groups,kh,kw]` on load) and `bias` `[out]` when `bias` is true.
 * Initialised like PyTorch (`U(±1/√fanIn)` for both); re-initialise with `initParameter`.
 *
 * @example
 * const stem = new Conv2d(3, 64, 7, { stride: 2, padding: 3, bias: false });
 * stem.forward(tf.zeros([1, 64, 64, 3])).shape; // [1, 32, 32, 64]
 */
export class Conv2d extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | null;
  readonly options: Readonly<Conv2dOptions>;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Pair,
    { bias = true, ...options }: Conv2dOptions & { bias?: boolean } = {},
  ) {
    super();
    const [kh, kw] = pair('kernelSize', kernelSize, 1);
    const groups = options.groups ?? 1;
    if (![inChannels, outChannels].every((n) => Number.isInteger(n) && n > 0)) {
      throw new Error(`Conv2d: channel counts must be positive integers, got ${inChannels}, ${outChannels}`);
    }
    if (!Number.isInteger(groups) || groups < 1 || inChannels % groups !== 0 || outChannels % groups !== 0) {
      throw new Error(
        `Conv2d: groups=${groups} must divide inChannels=${inChannels} and outChannels=${outChannels}`,
      );
    }
    pair('stride', options.stride ?? 1, 1);
    pair('padding', options.padding ?? 0, 0);
    pair('dilation', options.dilation ?? 1, 1);
    this.options = { ...options };
    const shape = [kh, kw, inChannels / groups, outChannels];
    this.weight = this.registerParameter('weight', kaimingUniform(shape, { a: Math.sqrt(5) }), {
      layout: 'conv2d',
    });
    const bound = 1 / Math.sqrt((inChannels / groups) * kh * kw);
    this.bias = bias ? this.registerParameter('bias', uniform([outChannels], -bound, bound)) : null;
  }

  /** @param x `[B,H,W,in]` @returns `[B,Ho,Wo,out]` */
  forward(x: tf.Tensor): tf.Tensor4D {
    return conv2d(x, this.weight, this.bias, this.options);
  }
}
