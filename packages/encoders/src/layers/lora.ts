import { Linear, zeros } from '@cvm/nn';
import * as tf from '@tensorflow/tfjs-core';

/** LoRA options: rank `r`, scaling `alpha / r`, and which attention Linears get adapters. */
export interface LoRAConfig {
  rank: number;
  alpha: number;
  /** Default both. */
  targets?: readonly ('qkv' | 'proj')[];
}

/**
 * A `Linear` with a low-rank update, `y = x·W + b + (alpha/r)·x·Aᵀ·Bᵀ` (Hu et al., PEFT's `lora_A` /
 * `lora_B` names: `lora_A.weight` `[r, in]`, `lora_B.weight` `[out, r]` in PyTorch layout). `lora_B`
 * starts at zero, so a fresh adapter leaves the layer unchanged.
 */
export class LoRALinear extends Linear {
  readonly lora_A: Linear;
  readonly lora_B: Linear;
  readonly scaling: number;

  constructor(
    inFeatures: number,
    outFeatures: number,
    { bias = true, rank, alpha }: { bias?: boolean; rank: number; alpha: number },
  ) {
    super(inFeatures, outFeatures, { bias });
    if (!Number.isInteger(rank) || rank < 1)
      throw new Error(`LoRALinear: rank must be a positive integer, got ${rank}`);
    this.lora_A = this.registerModule('lora_A', new Linear(inFeatures, rank, { bias: false }));
    this.lora_B = this.registerModule('lora_B', new Linear(rank, outFeatures, { bias: false }));
    tf.tidy(() => this.lora_B.weight.assign(zeros(this.lora_B.weight.shape)));
    this.scaling = alpha / rank;
  }

  /** The low-rank term alone. @param x `[..., in]` @returns `[..., out]` */
  delta(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.mul(this.lora_B.forward(this.lora_A.forward(x)), this.scaling));
  }

  override forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.add(super.forward(x), this.delta(x)));
  }
}
