import * as tf from '@tensorflow/tfjs-core';
import { silu } from './activation.js';
import { Linear } from './linear.js';
import { Module } from './module.js';

/**
 * Gated MLP `w3(silu(w1 x) ⊙ w2 x)` (Shazeer's SwiGLU; xformers' `SwiGLU` names and order): children
 * `w1` (gate, in→hidden), `w2` (value, in→hidden) and `w3` (out, hidden→out), each a `Linear` with
 * bias unless `bias: false`. Parameter names: `w1.weight`, `w1.bias`, `w2.weight`, `w2.bias`,
 * `w3.weight`, `w3.bias`.
 * @example
 * const mlp = new SwiGLU(128, 256); // out = in by default
 * mlp.forward(tf.zeros([2, 64, 128])).shape; // [2, 64, 128]
 */
export class SwiGLU extends Module {
  readonly w1: Linear;
  readonly w2: Linear;
  readonly w3: Linear;

  constructor(
    readonly inFeatures: number,
    readonly hiddenFeatures: number,
    readonly outFeatures = inFeatures,
    { bias = true }: { bias?: boolean } = {},
  ) {
    super();
    this.w1 = this.registerModule('w1', new Linear(inFeatures, hiddenFeatures, { bias }));
    this.w2 = this.registerModule('w2', new Linear(inFeatures, hiddenFeatures, { bias }));
    this.w3 = this.registerModule('w3', new Linear(hiddenFeatures, outFeatures, { bias }));
  }

  /** @param x `[..., in]` @returns `[..., out]` */
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.w3.forward(tf.mul(silu(this.w1.forward(x)), this.w2.forward(x))));
  }
}
