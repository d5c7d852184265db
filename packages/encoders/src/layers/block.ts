import { gelu, LayerNorm, Linear, Module, SwiGLU } from '@cvm/nn';
import * as tf from '@tensorflow/tfjs-core';
import { ViTAttention } from './attention.js';
import type { LoRAConfig } from './lora.js';

/** `x·γ` with a learned per-channel `gamma` `[D]` (timm / DINOv3 `LayerScale`). */
export class LayerScale extends Module {
  readonly gamma: tf.Variable;
  constructor(dim: number, init: number) {
    super();
    this.gamma = this.registerParameter('gamma', tf.fill([dim], init));
  }
  /** @param x `[..., D]` */
  forward(x: tf.Tensor): tf.Tensor {
    return tf.mul(x, this.gamma);
  }
}

/** timm's `Mlp`: `fc2(GELU(fc1(x)))` (exact GELU). Children `fc1`, `fc2`. */
export class Mlp extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;
  constructor(dim: number, hidden: number) {
    super();
    this.fc1 = this.registerModule('fc1', new Linear(dim, hidden));
    this.fc2 = this.registerModule('fc2', new Linear(hidden, dim));
  }
  /** @param x `[..., D]` */
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.fc2.forward(gelu(this.fc1.forward(x))));
  }
}

/**
 * DINOv3's SwiGLU hidden width: `int(2/3 · hidden)` rounded up to a multiple of `align`
 * (`SwiGLUFFN` in `dinov3/layers/ffn_layers.py`).
 */
export function swigluHidden(hidden: number, align: number): number {
  const h = Math.floor((2 * hidden) / 3);
  return Math.ceil(h / align) * align;
}

/** Options of `ViTBlock`. */
export interface ViTBlockOptions {
  numHeads: number;
  /** MLP hidden width (for SwiGLU: the width after `swigluHidden`). */
  mlpHidden: number;
  ffn: 'mlp' | 'swiglu';
  qkvBias: boolean;
  maskKBias: boolean;
  /** LayerScale init, or null for none. */
  layerScale: number | null;
  normEps: number;
  lora?: LoRAConfig | null;
}

/**
 * Pre-norm transformer block: `x + γ1·attn(norm1(x))`, then `x + γ2·mlp(norm2(x))`. Children `norm1`,
 * `attn`, `ls1` (if LayerScale), `norm2`, `mlp` (`fc1`/`fc2`, or `w1`/`w2`/`w3` for SwiGLU), `ls2`.
 */
export class ViTBlock extends Module {
  readonly norm1: LayerNorm;
  readonly attn: ViTAttention;
  readonly ls1: LayerScale | null;
  readonly norm2: LayerNorm;
  readonly mlp: Mlp | SwiGLU;
  readonly ls2: LayerScale | null;

  constructor(dim: number, o: ViTBlockOptions) {
    super();
    this.norm1 = this.registerModule('norm1', new LayerNorm(dim, { eps: o.normEps }));
    this.attn = this.registerModule(
      'attn',
      new ViTAttention(dim, o.numHeads, { qkvBias: o.qkvBias, maskKBias: o.maskKBias, lora: o.lora }),
    );
    this.ls1 = o.layerScale === null ? null : this.registerModule('ls1', new LayerScale(dim, o.layerScale));
    this.norm2 = this.registerModule('norm2', new LayerNorm(dim, { eps: o.normEps }));
    this.mlp = this.registerModule(
      'mlp',
      o.ffn === 'swiglu' ? new SwiGLU(dim, o.mlpHidden) : new Mlp(dim, o.mlpHidden),
    );
    this.ls2 = o.layerScale === null ? null : this.registerModule('ls2', new LayerScale(dim, o.layerScale));
  }

  /**
   * @param x `[B, N, D]`
   * @param rope RoPE tables for the last tokens, or null
   * @returns `[B, N, D]`
   */
  forward(x: tf.Tensor, rope: { sin: tf.Tensor; cos: tf.Tensor } | null = null): tf.Tensor {
    return tf.tidy(() => {
      let a = this.attn.forward(this.norm1.forward(x), rope);
      if (this.ls1) a = this.ls1.forward(a);
      const y = tf.add(x, a);
      let m = this.mlp.forward(this.norm2.forward(y));
      if (this.ls2) m = this.ls2.forward(m);
      return tf.add(y, m);
    });
  }
}
