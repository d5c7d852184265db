import * as tf from '@tensorflow/tfjs-core';
import { Module } from './module.js';

/**
 * `(x − mean) / √(var + eps)` over `axes` (biased variance), with a backward that keeps only `x` and
 * the output ŷ (which the next op keeps anyway) instead of the five or so tensors of that size stock
 * autodiff of the composite keeps: dx = rstd · (dy − mean(dy) − ŷ · mean(dy · ŷ)), rstd recomputed
 * from `x`. The one home of this normalisation (LayerNorm, InstanceNorm, BatchNorm's batch statistics).
 */
export function standardize(x: tf.Tensor, axes: number[], eps: number): tf.Tensor {
  const rstdOf = (t: tf.Tensor) => tf.rsqrt(tf.add(tf.moments(t, axes, true).variance, eps));
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const input = args[0] as tf.Tensor;
    const save = args[1] as tf.GradSaveFunc;
    const y = tf.tidy(() => {
      const { mean, variance } = tf.moments(input, axes, true);
      return tf.mul(tf.sub(input, mean), tf.rsqrt(tf.add(variance, eps)));
    });
    save([input, y]);
    return {
      value: y,
      gradFunc: (dyIn: tf.Tensor | tf.Tensor[], [xs, ys]: tf.Tensor[]) =>
        tf.tidy(() => {
          const dy = dyIn as tf.Tensor;
          const meanDy = tf.mean(dy, axes, true);
          const meanDyY = tf.mean(tf.mul(dy, ys), axes, true);
          return tf.mul(rstdOf(xs), tf.sub(tf.sub(dy, meanDy), tf.mul(ys, meanDyY)));
        }),
    };
  }) as (input: tf.Tensor) => tf.Tensor;
  return op(x);
}

/**
 * Layer normalisation over the last axis with biased variance (`torch.nn.functional.layer_norm`).
 * @param x `[..., C]`
 * @param weight `[C]` or null, @param bias `[C]` or null
 * @returns `[..., C]`
 * @example
 * layerNorm(tf.tensor2d([[1, 2, 3]]), null, null); // ≈ [[-1.2247, 0, 1.2247]]
 */
export function layerNorm(
  x: tf.Tensor,
  weight: tf.Tensor | null,
  bias: tf.Tensor | null,
  eps = 1e-5,
): tf.Tensor {
  const c = x.shape[x.rank - 1];
  for (const [name, t] of [
    ['weight', weight],
    ['bias', bias],
  ] as const) {
    if (t !== null && (t.rank !== 1 || t.shape[0] !== c)) {
      throw new Error(`layerNorm: ${name} must be [${c}] to match x [${x.shape}], got [${t.shape}]`);
    }
  }
  return tf.tidy(() => {
    let y = standardize(x, [x.rank - 1], eps);
    if (weight !== null) y = tf.mul(y, weight);
    if (bias !== null) y = tf.add(y, bias);
    return y;
  });
}

/**
 * `torch.nn.LayerNorm(C)` over the last axis: eps 1e-5, affine `weight` (ones) and `bias` (zeros) by
 * default.
 * @example
 * new LayerNorm(128).forward(tf.randomNormal([2, 64, 128])).shape; // [2, 64, 128]
 */
export class LayerNorm extends Module {
  readonly weight: tf.Variable | null;
  readonly bias: tf.Variable | null;
  readonly eps: number;

  constructor(
    readonly normalizedShape: number,
    {
      eps = 1e-5,
      elementwiseAffine = true,
      bias = true,
    }: { eps?: number; elementwiseAffine?: boolean; bias?: boolean } = {},
  ) {
    super();
    if (!Number.isInteger(normalizedShape) || normalizedShape < 1) {
      throw new Error(`LayerNorm: normalizedShape must be a positive integer, got ${normalizedShape}`);
    }
    this.eps = eps;
    this.weight = elementwiseAffine ? this.registerParameter('weight', tf.ones([normalizedShape])) : null;
    this.bias =
      elementwiseAffine && bias ? this.registerParameter('bias', tf.zeros([normalizedShape])) : null;
  }

  /** @param x `[..., C]` @returns `[..., C]` */
  forward(x: tf.Tensor): tf.Tensor {
    if (x.shape[x.rank - 1] !== this.normalizedShape) {
      throw new Error(`LayerNorm: x must be [..., ${this.normalizedShape}], got [${x.shape}]`);
    }
    return layerNorm(x, this.weight, this.bias, this.eps);
  }
}

/**
 * Instance normalisation of NHWC maps: per sample and channel over H×W, biased variance
 * (`torch.nn.functional.instance_norm` without running statistics).
 * @param x `[B,H,W,C]`
 * @param weight `[C]` or null, @param bias `[C]` or null
 * @returns `[B,H,W,C]`
 * @example
 * instanceNorm(tf.randomNormal([2, 8, 8, 64])).shape; // [2, 8, 8, 64]
 */
export function instanceNorm(
  x: tf.Tensor,
  weight: tf.Tensor | null = null,
  bias: tf.Tensor | null = null,
  eps = 1e-5,
): tf.Tensor4D {
  if (x.rank !== 4) throw new Error(`instanceNorm: x must be [B,H,W,C], got [${x.shape}]`);
  return tf.tidy(() => {
    let y = standardize(x, [1, 2], eps);
    if (weight !== null) y = tf.mul(y, weight);
    if (bias !== null) y = tf.add(y, bias);
    return y as tf.Tensor4D;
  });
}

/**
 * `torch.nn.InstanceNorm2d(C)` on NHWC maps: eps 1e-5, no running statistics, and by default no
 * affine parameters (so nothing to load, as in UniMatch's CNN encoder). `affine: true` adds
 * `weight`/`bias` `[C]`.
 * @example
 * new InstanceNorm2d(64).forward(tf.randomNormal([1, 16, 16, 64])).shape; // [1, 16, 16, 64]
 */
export class InstanceNorm2d extends Module {
  readonly weight: tf.Variable | null;
  readonly bias: tf.Variable | null;
  readonly eps: number;

  constructor(
    readonly numFeatures: number,
    { eps = 1e-5, affine = false }: { eps?: number; affine?: boolean } = {},
  ) {
    super();
    this.eps = eps;
    this.weight = affine ? this.registerParameter('weight', tf.ones([numFeatures])) : null;
    this.bias = affine ? this.registerParameter('bias', tf.zeros([numFeatures])) : null;
  }

  /** @param x `[B,H,W,C]` @returns `[B,H,W,C]` */
  forward(x: tf.Tensor): tf.Tensor4D {
    if (x.rank !== 4 || x.shape[3] !== this.numFeatures) {
      throw new Error(`InstanceNorm2d: x must be [B,H,W,${this.numFeatures}], got [${x.shape}]`);
    }
    return instanceNorm(x, this.weight, this.bias, this.eps);
  }
}

/** Alias of `InstanceNorm2d`. */
export const InstanceNorm = InstanceNorm2d;
