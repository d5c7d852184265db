import { Linear, Module } from '@cvm/nn';
import * as tf from '@tensorflow/tfjs-core';
import { type LoRAConfig, LoRALinear } from './lora.js';
import { applyRope } from './rope.js';

/** Options of `ViTAttention`. */
export interface ViTAttentionOptions {
  /** Bias on the packed qkv projection. */
  qkvBias: boolean;
  /**
   * DINOv3's `LinearKMaskedBias`: the key third of the qkv bias is forced to zero (the released mask is
   * 1 for q and v, 0 for k), so only the q and v biases act.
   */
  maskKBias: boolean;
  /** Low-rank adapters on `qkv` and/or `proj` (PEFT names `qkv.lora_A.weight`, ...). */
  lora?: LoRAConfig | null;
}

/**
 * timm / DINOv3 self-attention with a packed `qkv` Linear (output channels `[q | k | v]`, each
 * head-major) and an output `proj`, optional RoPE on q and k of the last tokens. Children: `qkv`,
 * `proj`.
 */
export class ViTAttention extends Module {
  readonly qkv: Linear;
  readonly proj: Linear;
  private readonly maskKBias: boolean;

  constructor(
    readonly dim: number,
    readonly numHeads: number,
    { qkvBias, maskKBias, lora }: ViTAttentionOptions,
  ) {
    super();
    if (!Number.isInteger(numHeads) || numHeads < 1 || dim % numHeads !== 0) {
      throw new Error(`ViTAttention: numHeads=${numHeads} must divide dim=${dim}`);
    }
    const targets = lora ? (lora.targets ?? ['qkv', 'proj']) : [];
    const make = (name: 'qkv' | 'proj', out: number, bias: boolean) =>
      lora && targets.includes(name)
        ? new LoRALinear(dim, out, { bias, rank: lora.rank, alpha: lora.alpha })
        : new Linear(dim, out, { bias });
    this.qkv = this.registerModule('qkv', make('qkv', 3 * dim, qkvBias));
    this.proj = this.registerModule('proj', make('proj', dim, true));
    this.maskKBias = qkvBias && maskKBias;
  }

  /** The bias actually added: `[b_q, 0, b_v]` under `maskKBias` (DINOv3's stored `bias_mask` is dropped on load). */
  private effectiveBias(): tf.Tensor | null {
    const bias = this.qkv.bias;
    if (!bias || !this.maskKBias) return bias;
    const [bq, , bv] = tf.split(bias, 3);
    return tf.concat([bq, tf.zeros([this.dim]), bv]);
  }

  /**
   * @param x `[B, N, D]`
   * @param rope `{sin, cos}` `[L, d]` for the last `L` tokens, or null
   * @returns `[B, N, D]`
   */
  forward(x: tf.Tensor, rope: { sin: tf.Tensor; cos: tf.Tensor } | null = null): tf.Tensor {
    return tf.tidy(() => {
      const [b, n, c] = x.shape as [number, number, number];
      const h = this.numHeads;
      const d = c / h;
      let qkv = tf.matMul(tf.reshape(x, [b * n, c]), this.qkv.weight);
      const bias = this.effectiveBias();
      if (bias) qkv = tf.add(qkv, bias);
      if (this.qkv instanceof LoRALinear) qkv = tf.add(qkv, this.qkv.delta(tf.reshape(x, [b * n, c])));
      // [B, N, 3, h, d] -> [3, B, h, N, d]
      const parts = tf.transpose(tf.reshape(qkv, [b, n, 3, h, d]), [2, 0, 3, 1, 4]);
      let [q, k, v] = tf.unstack(parts, 0);
      if (rope) {
        q = applyRope(q, rope.sin, rope.cos);
        k = applyRope(k, rope.sin, rope.cos);
      }
      const scores = tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(d));
      const out = tf.matMul(tf.softmax(scores), v); // [B, h, N, d]
      const merged = tf.reshape(tf.transpose(out, [0, 2, 1, 3]), [b, n, c]);
      return this.proj.forward(merged);
    });
  }
}
