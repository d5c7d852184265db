import * as tf from '@tensorflow/tfjs-core';
import { Linear } from './linear.js';
import { Module } from './module.js';

/**
 * `softmax(q·kᵀ·scale + mask)·v` over the keys (PyTorch's `F.scaled_dot_product_attention` with a
 * float mask). Leading dims broadcast as in `tf.matMul`.
 * @param q `[..., Lq, d]`
 * @param k `[..., Lk, d]`
 * @param v `[..., Lk, dv]`
 * @param options.mask additive, broadcastable to `[..., Lq, Lk]` (e.g. 0 / −100 or −inf)
 * @param options.scale default `1/√d`
 * @returns `[..., Lq, dv]`
 * @example
 * const q = tf.randomNormal([4, 16, 32]);
 * scaledDotProductAttention(q, q, q).shape; // [4, 16, 32]
 */
export function scaledDotProductAttention(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  { mask, scale }: { mask?: tf.Tensor | null; scale?: number } = {},
): tf.Tensor {
  if (q.rank < 2 || k.rank !== q.rank || v.rank !== q.rank) {
    throw new Error(
      `scaledDotProductAttention: q, k, v must have the same rank >= 2, got [${q.shape}], [${k.shape}], [${v.shape}]`,
    );
  }
  const d = q.shape[q.rank - 1];
  if (k.shape[k.rank - 1] !== d) {
    throw new Error(`scaledDotProductAttention: q [${q.shape}] and k [${k.shape}] must share the last dim`);
  }
  if (k.shape[k.rank - 2] !== v.shape[v.rank - 2]) {
    throw new Error(
      `scaledDotProductAttention: k [${k.shape}] and v [${v.shape}] must have the same number of keys`,
    );
  }
  return tf.tidy(() => {
    let scores = tf.mul(tf.matMul(q, k, false, true), scale ?? 1 / Math.sqrt(d));
    if (mask) scores = tf.add(scores, mask);
    return tf.matMul(tf.softmax(scores), v);
  });
}

/** `[B, L, h·d]` → `[B, h, L, d]` (head `i` owns channels `i·d .. i·d+d−1`, as in PyTorch). */
function splitHeads(x: tf.Tensor, heads: number): tf.Tensor {
  const [b, l, c] = x.shape;
  return tf.transpose(tf.reshape(x, [b, l, heads, c / heads]), [0, 2, 1, 3]);
}

/**
 * Multi-head scaled dot-product attention on already projected tokens: channels are split into
 * `numHeads` contiguous groups, each attends separately (scale `1/√(C/numHeads)`), and the heads
 * are concatenated back.
 * @param q `[B, Lq, C]`
 * @param k `[B, Lk, C]`
 * @param v `[B, Lk, Cv]`
 * @param numHeads divides `C` and `Cv`
 * @param options.mask additive: `[Lq, Lk]`, `[B, Lq, Lk]` (shared by the heads) or `[B, numHeads, Lq, Lk]`
 * @returns `[B, Lq, Cv]`
 * @example
 * const x = tf.randomNormal([2, 10, 64]);
 * multiHeadAttention(x, x, x, 4).shape; // [2, 10, 64]
 */
export function multiHeadAttention(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  numHeads: number,
  { mask, scale }: { mask?: tf.Tensor | null; scale?: number } = {},
): tf.Tensor {
  if (q.rank !== 3 || k.rank !== 3 || v.rank !== 3) {
    throw new Error(
      `multiHeadAttention: q, k, v must be [B, L, C], got [${q.shape}], [${k.shape}], [${v.shape}]`,
    );
  }
  const c = q.shape[2] as number;
  const cv = v.shape[2] as number;
  if (!Number.isInteger(numHeads) || numHeads < 1 || c % numHeads !== 0 || cv % numHeads !== 0) {
    throw new Error(
      `multiHeadAttention: numHeads=${numHeads} must divide the channels of q (${c}) and v (${cv})`,
    );
  }
  if (mask && (mask.rank < 2 || mask.rank > 4)) {
    throw new Error(
      `multiHeadAttention: mask must be [Lq,Lk], [B,Lq,Lk] or [B,h,Lq,Lk], got [${mask.shape}]`,
    );
  }
  return tf.tidy(() => {
    const m = mask && mask.rank === 3 ? tf.expandDims(mask, 1) : mask;
    const out = scaledDotProductAttention(
      splitHeads(q, numHeads),
      splitHeads(k, numHeads),
      splitHeads(v, numHeads),
      {
        mask: m,
        scale,
      },
    );
    const [b, , lq] = out.shape;
    return tf.reshape(tf.transpose(out, [0, 2, 1, 3]), [b, lq, cv]);
  });
}

/**
 * Multi-head attention with input and output projections (PyTorch's `nn.MultiheadAttention`,
 * `batch_first=True`, with the packed `in_proj_weight` split into three Linears). Children:
 * `q_proj`, `k_proj`, `v_proj`, `out_proj` (each `Linear(E, E)`, with bias unless `bias: false`).
 * @example
 * const attn = new MultiHeadAttention(64, 4);
 * const x = tf.randomNormal([2, 10, 64]);
 * attn.forward(x, x, x).shape; // [2, 10, 64]
 */
export class MultiHeadAttention extends Module {
  readonly q_proj: Linear;
  readonly k_proj: Linear;
  readonly v_proj: Linear;
  readonly out_proj: Linear;

  constructor(
    readonly embedDim: number,
    readonly numHeads: number,
    { bias = true }: { bias?: boolean } = {},
  ) {
    super();
    if (!Number.isInteger(numHeads) || numHeads < 1 || embedDim % numHeads !== 0) {
      throw new Error(`MultiHeadAttention: numHeads=${numHeads} must divide embedDim=${embedDim}`);
    }
    this.q_proj = this.registerModule('q_proj', new Linear(embedDim, embedDim, { bias }));
    this.k_proj = this.registerModule('k_proj', new Linear(embedDim, embedDim, { bias }));
    this.v_proj = this.registerModule('v_proj', new Linear(embedDim, embedDim, { bias }));
    this.out_proj = this.registerModule('out_proj', new Linear(embedDim, embedDim, { bias }));
  }

  /**
   * @param query `[B, Lq, E]`, @param key `[B, Lk, E]`, @param value `[B, Lk, E]`
   * @param options.mask additive, as in `multiHeadAttention`
   * @returns `[B, Lq, E]`
   */
  forward(
    query: tf.Tensor,
    key: tf.Tensor,
    value: tf.Tensor,
    options: { mask?: tf.Tensor | null } = {},
  ): tf.Tensor {
    return tf.tidy(() =>
      this.out_proj.forward(
        multiHeadAttention(
          this.q_proj.forward(query),
          this.k_proj.forward(key),
          this.v_proj.forward(value),
          this.numHeads,
          options,
        ),
      ),
    );
  }
}
