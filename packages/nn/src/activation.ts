import * as tf from '@tensorflow/tfjs-core';
import { Module } from './module.js';

/**
 * Exact GELU, `0.5·x·(1 + erf(x/√2))` (PyTorch's `nn.GELU()` default, not the tanh approximation).
 * @param x any shape @returns same shape
 * @example
 * gelu(tf.tensor1d([-1, 0, 1])); // ≈ [-0.1587, 0, 0.8413]
 */
export function gelu(x: tf.Tensor): tf.Tensor {
  return geluWithCompactGrad(x);
}

/**
 * GELU whose backward keeps only `x` (stock autodiff of the composite keeps five tensors of its size,
 * the FFN's largest): d/dx = Φ(x) + x·φ(x).
 */
const geluWithCompactGrad = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const x = args[0] as tf.Tensor;
  (args[1] as tf.GradSaveFunc)([x]);
  return {
    value: tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1))),
    gradFunc: (dy: tf.Tensor | tf.Tensor[], [saved]: tf.Tensor[]) =>
      tf.tidy(() => {
        const cdf = tf.mul(tf.add(tf.erf(tf.mul(saved, Math.SQRT1_2)), 1), 0.5);
        const pdf = tf.mul(tf.exp(tf.mul(tf.square(saved), -0.5)), 1 / Math.sqrt(2 * Math.PI));
        return tf.mul(dy as tf.Tensor, tf.add(cdf, tf.mul(saved, pdf)));
      }),
  };
}) as (x: tf.Tensor) => tf.Tensor;

/**
 * SiLU / swish, `x·sigmoid(x)`.
 * @param x any shape @returns same shape
 * @example
 * silu(tf.tensor1d([0, 1])); // ≈ [0, 0.7311]
 */
export function silu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(x, tf.sigmoid(x)));
}

/** `torch.nn.GELU()` (exact erf form) as a module without parameters. */
export class GELU extends Module {
  /** @param x any shape @returns same shape */
  forward(x: tf.Tensor): tf.Tensor {
    return gelu(x);
  }
}

/** `torch.nn.SiLU()` as a module without parameters. */
export class SiLU extends Module {
  /** @param x any shape @returns same shape */
  forward(x: tf.Tensor): tf.Tensor {
    return silu(x);
  }
}
