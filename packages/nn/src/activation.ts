import * as tf from '@tensorflow/tfjs-core';
import { Module } from './module.js';

/**
 * Exact GELU, `0.5·x·(1 + erf(x/√2))` (PyTorch's `nn.GELU()` default, not the tanh approximation).
 * @param x any shape @returns same shape
 * @example
 * gelu(tf.tensor1d([-1, 0, 1])); // ≈ [-0.1587, 0, 0.8413]
 */
export function gelu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1)));
}

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
