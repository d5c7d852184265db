import * as tf from '@tensorflow/tfjs-core';
import { isRecomputing } from './checkpoint.js';
import { Module } from './module.js';
import { standardize } from './normalization.js';

/** Options of `BatchNorm2d`, with PyTorch's meaning and defaults. */
export interface BatchNorm2dOptions {
  /** Added to the variance. Default 1e-5. */
  eps?: number;
  /** Running-statistics update `r ← (1 − m)·r + m·batch`. Default 0.1. */
  momentum?: number;
  /** Learnable `weight` (ones) and `bias` (zeros). Default true. */
  affine?: boolean;
  /** Keep `running_mean`, `running_var`, `num_batches_tracked` and use them in eval mode. Default true. */
  trackRunningStats?: boolean;
}

/**
 * `torch.nn.BatchNorm2d(C)` on NHWC maps. In training mode (`module.train()`, the default) it
 * normalises with the batch's mean and biased variance over `[B,H,W]` and updates the running mean and
 * the running *unbiased* variance with `momentum`, counting `num_batches_tracked`; in eval mode it uses
 * the running statistics. Parameters `weight`, `bias`; buffers `running_mean` (zeros),
 * `running_var` (ones) and `num_batches_tracked` (int32 here, int64 in PyTorch): PyTorch's names, so
 * state dicts load by name. The running-statistics update happens outside any gradient.
 * @example
 * const bn = new BatchNorm2d(64);
 * bn.forward(tf.randomNormal([2, 8, 8, 64])); // training: batch statistics, running stats updated
 * bn.eval().forward(tf.randomNormal([1, 8, 8, 64])); // running statistics
 */
export class BatchNorm2d extends Module {
  readonly weight: tf.Variable | null;
  readonly bias: tf.Variable | null;
  readonly runningMean: tf.Variable | null;
  readonly runningVar: tf.Variable | null;
  readonly numBatchesTracked: tf.Variable | null;
  readonly eps: number;
  readonly momentum: number;

  constructor(
    readonly numFeatures: number,
    { eps = 1e-5, momentum = 0.1, affine = true, trackRunningStats = true }: BatchNorm2dOptions = {},
  ) {
    super();
    if (!Number.isInteger(numFeatures) || numFeatures < 1) {
      throw new Error(`BatchNorm2d: numFeatures must be a positive integer, got ${numFeatures}`);
    }
    if (!(momentum >= 0 && momentum <= 1))
      throw new Error(`BatchNorm2d: momentum must be in [0, 1], got ${momentum}`);
    this.eps = eps;
    this.momentum = momentum;
    this.weight = affine ? this.registerParameter('weight', tf.ones([numFeatures])) : null;
    this.bias = affine ? this.registerParameter('bias', tf.zeros([numFeatures])) : null;
    this.runningMean = trackRunningStats
      ? this.registerBuffer('running_mean', tf.zeros([numFeatures]))
      : null;
    this.runningVar = trackRunningStats ? this.registerBuffer('running_var', tf.ones([numFeatures])) : null;
    this.numBatchesTracked = trackRunningStats
      ? this.registerBuffer('num_batches_tracked', tf.scalar(0, 'int32'))
      : null;
  }

  /** @param x `[B,H,W,C]` @returns `[B,H,W,C]` */
  forward(x: tf.Tensor): tf.Tensor4D {
    if (x.rank !== 4 || x.shape[3] !== this.numFeatures) {
      throw new Error(`BatchNorm2d: x must be [B,H,W,${this.numFeatures}], got [${x.shape}]`);
    }
    const useBatch = this.training || this.runningMean === null;
    const [b, h, w] = x.shape as [number, number, number, number];
    const n = b * h * w;
    if (useBatch && this.training && n < 2) {
      throw new Error(`BatchNorm2d: training needs more than one value per channel, got x [${x.shape}]`);
    }
    return tf.tidy(() => {
      let y: tf.Tensor;
      if (useBatch) {
        // Batch statistics: `standardize`'s compact backward keeps x and ŷ only (the composite kept
        // about six tensors of x's size on the tape, the largest of a SAK head at 448×576).
        y = standardize(x, [0, 1, 2], this.eps);
        // Once per step: not again when activation checkpointing recomputes this layer.
        if (
          this.training &&
          this.runningMean &&
          this.runningVar &&
          this.numBatchesTracked &&
          !isRecomputing()
        ) {
          const [mean, variance] = batchMoments(x);
          this.updateRunningStats(mean, variance, n);
        }
      } else {
        const mean = this.runningMean as tf.Variable;
        const variance = this.runningVar as tf.Variable;
        y = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, this.eps)));
      }
      if (this.weight) y = tf.mul(y, this.weight);
      if (this.bias) y = tf.add(y, this.bias);
      return y as tf.Tensor4D;
    });
  }

  private updateRunningStats(mean: tf.Tensor, variance: tf.Tensor, n: number): void {
    const m = this.momentum;
    // Statistics are state, not part of the graph: computed from plain copies off the tape.
    const [rm, rv, nb] = [this.runningMean, this.runningVar, this.numBatchesTracked] as tf.Variable[];
    const batchMean = tf.clone(mean);
    const unbiased = tf.mul(variance, n / (n - 1));
    rm.assign(tf.add(tf.mul(rm, 1 - m), tf.mul(batchMean, m)));
    rv.assign(tf.add(tf.mul(rv, 1 - m), tf.mul(unbiased, m)));
    nb.assign(tf.add(nb, tf.scalar(1, 'int32')));
  }
}

/**
 * Mean and biased variance `[C]` of `x` `[B,H,W,C]` over `[B,H,W]`, computed off the gradient tape
 * (inside a custom gradient's forward, whose ops are not recorded; the running statistics are state,
 * never differentiated), so that no x-sized intermediate of `tf.moments` is kept for a backward pass.
 */
function batchMoments(x: tf.Tensor): [tf.Tensor, tf.Tensor] {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const input = args[0] as tf.Tensor;
    return {
      value: tf.tidy(() => {
        const { mean, variance } = tf.moments(input, [0, 1, 2]);
        return tf.stack([mean, variance]);
      }),
      gradFunc: () => tf.zerosLike(input),
    };
  }) as (input: tf.Tensor) => tf.Tensor;
  return tf.unstack(op(x)) as [tf.Tensor, tf.Tensor];
}
