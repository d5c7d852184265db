import * as tf from '@tensorflow/tfjs-core';
import { kaimingUniform, uniform } from './init.js';
import { Module } from './module.js';

/**
 * `y = x·W + b` over the last axis (PyTorch's `F.linear` with the weight stored transposed).
 * @param x `[..., in]`
 * @param weight `[in, out]` (tfjs layout of PyTorch's `[out, in]`)
 * @param bias `[out]` or null
 * @returns `[..., out]`
 * @example
 * linear(tf.ones([2, 5, 4]), tf.ones([4, 3])).shape; // [2, 5, 3]
 */
export function linear(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor | null = null): tf.Tensor {
  if (weight.rank !== 2) throw new Error(`linear: weight must be [in,out], got [${weight.shape}]`);
  const [inF, outF] = weight.shape;
  if (x.rank < 1 || x.shape[x.rank - 1] !== inF) {
    throw new Error(`linear: x must be [..., ${inF}], got [${x.shape}]`);
  }
  if (bias !== null && (bias.rank !== 1 || bias.shape[0] !== outF)) {
    throw new Error(`linear: bias must be [${outF}], got [${bias.shape}]`);
  }
  return tf.tidy(() => {
    const lead = x.shape.slice(0, -1);
    let y = tf.matMul(tf.reshape(x, [-1, inF]), weight);
    if (bias !== null) y = tf.add(y, bias);
    return tf.reshape(y, [...lead, outF]);
  });
}

/**
 * `torch.nn.Linear`. Parameters: `weight` `[in,out]` (layout `'linear'`, transposed from PyTorch's
 * `[out,in]` on load), `bias` `[out]` when `bias` is true. Initialised like PyTorch (`U(±1/√in)`).
 * @example
 * const proj = new Linear(128, 128, { bias: false });
 * proj.forward(tf.zeros([2, 64, 128])).shape; // [2, 64, 128]
 */
export class Linear extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    { bias = true }: { bias?: boolean } = {},
  ) {
    super();
    if (![inFeatures, outFeatures].every((n) => Number.isInteger(n) && n > 0)) {
      throw new Error(`Linear: feature counts must be positive integers, got ${inFeatures}, ${outFeatures}`);
    }
    this.weight = this.registerParameter(
      'weight',
      kaimingUniform([inFeatures, outFeatures], { a: Math.sqrt(5) }),
      {
        layout: 'linear',
      },
    );
    const bound = 1 / Math.sqrt(inFeatures);
    this.bias = bias ? this.registerParameter('bias', uniform([outFeatures], -bound, bound)) : null;
  }

  /** @param x `[..., in]` @returns `[..., out]` */
  forward(x: tf.Tensor): tf.Tensor {
    return linear(x, this.weight, this.bias);
  }
}
