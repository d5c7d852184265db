import {
  gelu,
  initParameter,
  LayerNorm,
  Linear,
  Module,
  ModuleList,
  type Segment,
  xavierUniform,
} from '@cvm/nn';
import * as tf from '@tensorflow/tfjs-core';
import { multiViewWindowAttention, windowPositionEncoding } from './window-attention.js';

/** UniMatch's FFN `nn.Sequential(Linear(2C, 2C·e, bias=False), GELU(), Linear(2C·e, C, bias=False))`: `0.weight`, `2.weight`. */
class FeedForward extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;
  constructor(dModel: number, expansion: number) {
    super();
    this.fc1 = this.registerModule('0', new Linear(2 * dModel, 2 * dModel * expansion, { bias: false }));
    this.fc2 = this.registerModule('2', new Linear(2 * dModel * expansion, dModel, { bias: false }));
  }
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.fc2.forward(gelu(this.fc1.forward(x))));
  }
}

/** Shape of one transformer layer. */
export interface TransformerLayerOptions {
  dModel?: number;
  heads?: number;
  /** With the FFN on `concat[source, message]` (cross-attention layers). */
  ffn?: boolean;
  ffnExpansion?: number;
  /** Keep the FFN branch's output LayerNorm (`norm2`). CvM drops it in the last layer. Default true. */
  outputNorm?: boolean;
}

/** Per-call settings shared by the layers of one forward pass. */
export interface AttentionContext {
  views: number;
  splits: number;
  shift: boolean;
}

/**
 * UniMatch's `TransformerLayer`: `x + branch(x)`, the only residual, with
 * `branch = LN1(merge(attn(q_proj x, k_proj y, v_proj y)))`, followed (FFN layers) by
 * `LN2(mlp(concat[x, branch]))`; all Linears without bias, exact GELU.
 * Parameters: `q_proj.weight`, `k_proj.weight`, `v_proj.weight`, `merge.weight`, `norm1.weight|bias`,
 * and with the FFN `mlp.0.weight` (2C→8C), `mlp.2.weight` (8C→C), `norm2.weight|bias`.
 */
export class TransformerLayer extends Module {
  readonly dModel: number;
  readonly heads: number;
  readonly q_proj: Linear;
  readonly k_proj: Linear;
  readonly v_proj: Linear;
  readonly merge: Linear;
  readonly norm1: LayerNorm;
  readonly mlp: FeedForward | null;
  readonly norm2: LayerNorm | null;

  constructor({
    dModel = 128,
    heads = 1,
    ffn = false,
    ffnExpansion = 4,
    outputNorm = true,
  }: TransformerLayerOptions = {}) {
    super();
    if (!Number.isInteger(heads) || heads < 1 || dModel % heads !== 0) {
      throw new Error(`TransformerLayer: heads=${heads} must divide dModel=${dModel}`);
    }
    this.dModel = dModel;
    this.heads = heads;
    this.q_proj = this.registerModule('q_proj', new Linear(dModel, dModel, { bias: false }));
    this.k_proj = this.registerModule('k_proj', new Linear(dModel, dModel, { bias: false }));
    this.v_proj = this.registerModule('v_proj', new Linear(dModel, dModel, { bias: false }));
    this.merge = this.registerModule('merge', new Linear(dModel, dModel, { bias: false }));
    this.norm1 = this.registerModule('norm1', new LayerNorm(dModel));
    this.mlp = ffn ? this.registerModule('mlp', new FeedForward(dModel, ffnExpansion)) : null;
    this.norm2 = ffn && outputNorm ? this.registerModule('norm2', new LayerNorm(dModel)) : null;
  }

  /**
   * @param source `[V·B,H,W,C]` the stream being updated (queries)
   * @param target `[V·B,H,W,C]` keys/values: `source` itself for self-attention, or the views'
   *   start-of-block features for cross-view attention (each view attends to the others)
   * @param ctx views, window splits, shift; `crossView` picks the key layout
   * @returns `[V·B,H,W,C]`
   */
  forward(source: tf.Tensor, target: tf.Tensor, ctx: AttentionContext & { crossView: boolean }): tf.Tensor4D {
    return tf.tidy(() => {
      const message0 = multiViewWindowAttention(
        this.q_proj.forward(source),
        this.k_proj.forward(target),
        this.v_proj.forward(target),
        { ...ctx, heads: this.heads },
      );
      let message = this.norm1.forward(this.merge.forward(message0));
      if (this.mlp) {
        message = this.mlp.forward(tf.concat([source, message], -1));
        if (this.norm2) message = this.norm2.forward(message);
      }
      return tf.add(source, message) as tf.Tensor4D;
    });
  }
}

/** What a block's layers need to know of the forward pass (see `TransformerBlock.forward`). */
export type BlockContext = AttentionContext & { crossView: boolean; ownCopy?: boolean };

/**
 * UniMatch's `TransformerBlock`: a self-attention layer without FFN (`self_attn`), then a
 * cross-attention layer with FFN (`cross_attn_ffn`) whose keys are the other views' features at the
 * start of the block. With `crossView: false` (the self-attention-only baseline) the second layer
 * attends to the view itself, with the same parameters.
 */
export class TransformerBlock extends Module {
  readonly self_attn: TransformerLayer;
  readonly cross_attn_ffn: TransformerLayer;

  constructor(options: Omit<TransformerLayerOptions, 'ffn'>) {
    super();
    const { outputNorm, ...shared } = options;
    this.self_attn = this.registerModule('self_attn', new TransformerLayer({ ...shared, ffn: false }));
    this.cross_attn_ffn = this.registerModule(
      'cross_attn_ffn',
      new TransformerLayer({ ...shared, ffn: true, outputNorm }),
    );
  }

  /**
   * @param x `[V·B,H,W,C]` start-of-block features of every view
   * @param ctx with `crossView` the second layer's keys are the other views' start-of-block features;
   *   with `ownCopy` (one view) they are the view's own start-of-block features: the cross-view
   *   attention of a view and an identical copy of it, computed once
   * @returns `[V·B,H,W,C]`
   */
  forward(x: tf.Tensor, ctx: BlockContext): tf.Tensor4D {
    return tf.tidy(() => this.crossStep(x, this.selfStep(x, ctx), ctx));
  }

  /** The self-attention layer: the first half of `forward`. @returns `s`, `[V·B,H,W,C]` */
  selfStep(x: tf.Tensor, ctx: BlockContext): tf.Tensor4D {
    return this.self_attn.forward(x, x, { ...ctx, crossView: false });
  }

  /** The cross-attention + FFN layer on `s = selfStep(x, ctx)`: the second half of `forward`. */
  crossStep(x: tf.Tensor, s: tf.Tensor, ctx: BlockContext): tf.Tensor4D {
    if (ctx.ownCopy) return this.cross_attn_ffn.forward(s, x, { ...ctx, crossView: false });
    return this.cross_attn_ffn.forward(s, ctx.crossView ? x : s, ctx);
  }
}

/** Configuration of `MultiViewTransformer`. */
export interface MultiViewTransformerOptions {
  /** Blocks (self + cross layers). Default 6. */
  numLayers?: number;
  /** Model width `C`. Default 128. */
  dModel?: number;
  /** Attention heads. Default 1 (UniMatch supports only 1). */
  heads?: number;
  /** FFN expansion: hidden = `2C·e`. Default 4. */
  ffnExpansion?: number;
  /** Windows per side. Default 2. */
  splits?: number;
  /** Drop `norm2` of the last block's cross-attention FFN (the CvM paper's change). Default true. */
  removeFinalNorm?: boolean;
  /** `false`: the self-attention-only baseline (no information crosses views). Default true. */
  crossView?: boolean;
}

/**
 * The multi-view transformer: UniMatch's `FeatureTransformer` generalised to `V ≥ 2` views as in
 * MVSplat/DepthSplat (with the shift mask laid out correctly for the interleaved keys). All views are
 * updated in parallel from the start-of-block features; blocks with an odd index use shifted windows.
 * The window-local sine position encoding is added once before the first block.
 *
 * Parameter names follow UniMatch: `layers.{i}.self_attn.q_proj.weight`, ...,
 * `layers.{i}.cross_attn_ffn.mlp.0.weight`, `layers.{i}.cross_attn_ffn.norm2.weight`; 525,056 per block
 * at C = 128 (3,150,336 for 6 blocks, 256 fewer when the final norm is removed).
 * Initialised like UniMatch: xavier-uniform for every weight matrix, LayerNorms at ones/zeros.
 *
 * @example
 * const t = new MultiViewTransformer({ numLayers: 2, dModel: 32 });
 * const [a, b] = t.forward([tf.randomNormal([1, 8, 12, 32]), tf.randomNormal([1, 8, 12, 32])]); // 2 × [1,8,12,32]
 */
export class MultiViewTransformer extends Module {
  readonly numLayers: number;
  readonly dModel: number;
  readonly heads: number;
  readonly splits: number;
  readonly crossView: boolean;
  readonly layers: ModuleList<TransformerBlock>;

  constructor({
    numLayers = 6,
    dModel = 128,
    heads = 1,
    ffnExpansion = 4,
    splits = 2,
    removeFinalNorm = true,
    crossView = true,
  }: MultiViewTransformerOptions = {}) {
    super();
    if (!Number.isInteger(numLayers) || numLayers < 1) {
      throw new Error(`MultiViewTransformer: numLayers must be a positive integer, got ${numLayers}`);
    }
    if (!Number.isInteger(splits) || splits < 1) {
      throw new Error(`MultiViewTransformer: splits must be a positive integer, got ${splits}`);
    }
    if (!Number.isInteger(dModel) || dModel < 2 || dModel % 2 !== 0) {
      throw new Error(`MultiViewTransformer: dModel must be a positive even integer, got ${dModel}`);
    }
    this.numLayers = numLayers;
    this.dModel = dModel;
    this.heads = heads;
    this.splits = splits;
    this.crossView = crossView;
    const blocks: TransformerBlock[] = [];
    for (let i = 0; i < numLayers; i++) {
      const outputNorm = !(removeFinalNorm && i === numLayers - 1);
      blocks.push(new TransformerBlock({ dModel, heads, ffnExpansion, outputNorm }));
    }
    this.layers = this.registerModule('layers', new ModuleList(blocks));
    for (const p of this.parameters()) if (p.rank > 1) initParameter(p, xavierUniform(p.shape));
  }

  /**
   * @param features one `[B,H,W,C]` map per view (`H`, `W` divisible by `splits`). One view alone,
   *   with cross-view attention, is the paper's single-view setting: the view paired with an identical
   *   copy of itself, computed once (the copy's stream equals the view's, so it is not run)
   * @param options.addPosition add the window-local position encoding first (default true)
   * @returns one `[B,H,W,C]` map per view, in input order
   */
  forward(
    features: readonly tf.Tensor[],
    { addPosition = true }: { addPosition?: boolean } = {},
  ): tf.Tensor4D[] {
    const views = features.length;
    if (views < 1) throw new Error('MultiViewTransformer: no views');
    const shape = features[0].shape;
    features.forEach((f, i) => {
      if (f.rank !== 4 || f.shape[3] !== this.dModel) {
        throw new Error(
          `MultiViewTransformer: features[${i}] must be [B,H,W,${this.dModel}], got [${f.shape}]`,
        );
      }
      if (f.shape.join() !== shape.join()) {
        throw new Error(`MultiViewTransformer: features[${i}] is [${f.shape}] but features[0] is [${shape}]`);
      }
    });
    const [, h, w] = shape;
    if (h % this.splits !== 0 || w % this.splits !== 0) {
      throw new Error(
        `MultiViewTransformer: a ${h}x${w} feature map is not divisible into ${this.splits}x${this.splits} windows`,
      );
    }
    const blocks = this.blockSteps(views, h, w, { addPosition });
    return tf.tidy(() => {
      const x = blocks.reduce((y: tf.Tensor, block) => block(y), tf.concat(features as tf.Tensor[], 0));
      return tf.split(x, views, 0) as tf.Tensor4D[];
    });
  }

  /**
   * The blocks as functions of the views stacked along the batch axis (`[V·B,H,W,C]`, view-major),
   * applied in order (the first adds the position encoding when `addPosition`): `forward` without
   * its concat and split. Inputs are not checked here.
   * @param views `V`; one view with cross-view attention is the paper's single-view setting
   * @param height `H`, @param width `W` of the feature maps
   */
  blockSteps(
    views: number,
    height: number,
    width: number,
    { addPosition = true }: { addPosition?: boolean } = {},
  ): ((x: tf.Tensor) => tf.Tensor4D)[] {
    return [...this.layers].map(
      (block, i) => (x: tf.Tensor) =>
        tf.tidy(() =>
          block.forward(this.blockInput(x, i, height, width, addPosition), this.context(i, views)),
        ),
    );
  }

  /**
   * `blockSteps` cut at every layer, for activation checkpointing (`checkpointedGradients` of
   * `@cvm/nn`): per block `[x] → [x, s]` (self-attention) then `[x, s] → [block output]`.
   */
  layerSegments(
    views: number,
    height: number,
    width: number,
    { addPosition = true }: { addPosition?: boolean } = {},
  ): Segment[] {
    return [...this.layers].flatMap((block, i): Segment[] => {
      const ctx = this.context(i, views);
      return [
        ([x]) =>
          tf.tidy(() => {
            const y = this.blockInput(x, i, height, width, addPosition);
            return [y, block.selfStep(y, ctx)];
          }),
        ([x, s]) => [block.crossStep(x, s, ctx)],
      ];
    });
  }

  /** Block `i`'s input: `x`, plus the position encoding before the first block. */
  private blockInput(x: tf.Tensor, i: number, h: number, w: number, addPosition: boolean): tf.Tensor {
    return i === 0 && addPosition ? tf.add(x, windowPositionEncoding(h, w, this.dModel, this.splits)) : x;
  }

  /** Block `i`'s attention settings: odd blocks shift their windows. */
  private context(i: number, views: number): BlockContext {
    const ownCopy = this.crossView && views === 1;
    return { views, splits: this.splits, shift: i % 2 === 1, crossView: this.crossView && !ownCopy, ownCopy };
  }
}
