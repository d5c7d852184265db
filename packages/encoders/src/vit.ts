import { LayerNorm, Module, ModuleList, normalizeImage, type Segment, truncNormal } from '@cvm/nn';
import * as tf from '@tensorflow/tfjs-core';
import { Encoder, type IntermediatesOptions } from './encoder.js';
import { swigluHidden, ViTBlock } from './layers/block.js';
import { ropePeriods, ropeTables } from './layers/rope.js';
import { PatchEmbed, PatchGenerator, resampleAbsPosEmbed } from './layers/tokens.js';
import { type ViTConfig, validateViTConfig } from './vit-config.js';

/** DINOv3's `rope_embed`: the `periods` buffer `[d/4]` (no parameters). */
class RopeEmbed extends Module {
  readonly periods: tf.Variable;
  constructor(headDim: number, base: number) {
    super();
    this.periods = this.registerBuffer('periods', ropePeriods(headDim, base));
  }
}

/** RADIO's `input_conditioner`: `norm_mean`, `norm_std` buffers `[3, 1, 1]` from the checkpoint. */
class InputConditioner extends Module {
  readonly norm_mean: tf.Variable;
  readonly norm_std: tf.Variable;
  constructor(mean: readonly number[], std: readonly number[]) {
    super();
    this.norm_mean = this.registerBuffer('norm_mean', tf.tensor3d([...mean], [3, 1, 1]));
    this.norm_std = this.registerBuffer('norm_std', tf.tensor3d([...std], [3, 1, 1]));
  }
}

/** Tokens after embedding: `[B, prefix + gh·gw, D]` and the patch grid. */
interface Embedded {
  tokens: tf.Tensor3D;
  grid: [number, number];
}

/**
 * One configurable ViT covering DINOv3, RADIO and timm's ViT (SAK's stem); see `ViTConfig`. Parameter
 * names are each family's own PyTorch names (`blocks.3.attn.qkv.weight`, ...).
 *
 * @example
 * const vit = createEncoder('vit_tiny_p8'); // or new VisionTransformer(config)
 * const maps = vit.forwardIntermediates(tf.randomUniform([1, 64, 96, 3])); // 4 × [1, 8, 12, 192]
 */
export class VisionTransformer extends Encoder {
  readonly family: ViTConfig['family'];
  readonly embedDim: number;
  readonly patchSize: number;
  readonly depth: number;
  readonly outLayers: readonly number[];
  readonly normIntermediates: boolean;
  readonly tasks: readonly string[] = [];
  /** Class + register tokens in front of the patch tokens. */
  readonly numPrefixTokens: number;

  readonly patch_embed: PatchEmbed | null = null;
  readonly patch_generator: PatchGenerator | null = null;
  readonly cls_token: tf.Variable | null = null;
  readonly register_tokens: tf.Variable | null = null;
  readonly pos_embed: tf.Variable | null = null;
  readonly rope_embed: RopeEmbed | null = null;
  readonly input_conditioner: InputConditioner | null = null;
  readonly blocks: ModuleList<ViTBlock>;
  readonly norm: LayerNorm | null;

  constructor(readonly config: ViTConfig) {
    super();
    validateViTConfig(config);
    const c = config;
    this.family = c.family;
    this.embedDim = c.embedDim;
    this.patchSize = c.patchSize;
    this.depth = c.depth;
    this.outLayers = [...c.outLayers];
    this.normIntermediates = c.normIntermediates;
    this.numPrefixTokens = c.numClassTokens + c.numRegisters;
    const d = c.embedDim;
    // Registration order follows each family's PyTorch state_dict order.
    if (c.family === 'radio') {
      if (c.position.type !== 'cpe') throw new Error('unreachable');
      this.input_conditioner = this.registerModule(
        'input_conditioner',
        new InputConditioner(c.inputMean, c.inputStd),
      );
      this.patch_generator = this.registerModule(
        'patch_generator',
        new PatchGenerator(c.patchSize, d, c.position.maxGrid, this.numPrefixTokens),
      );
    } else {
      if (c.numClassTokens)
        this.cls_token = this.registerParameter('cls_token', truncNormal([1, 1, d], { std: 0.02 }));
      if (c.numRegisters) {
        const name = c.family === 'dinov3' ? 'storage_tokens' : 'reg_token';
        this.register_tokens = this.registerParameter(
          name,
          truncNormal([1, c.numRegisters, d], { std: 0.02 }),
        );
      }
      if (c.position.type === 'learned') {
        const [gh, gw] = c.position.grid;
        this.pos_embed = this.registerParameter(
          'pos_embed',
          truncNormal([1, this.numPrefixTokens + gh * gw, d], { std: 0.02 }),
        );
      }
      this.patch_embed = this.registerModule('patch_embed', new PatchEmbed(c.patchSize, d));
      if (c.position.type === 'rope') {
        this.rope_embed = this.registerModule('rope_embed', new RopeEmbed(d / c.numHeads, c.position.base));
      }
    }
    const hidden = Math.round(c.mlpRatio * d);
    this.blocks = this.registerModule(
      'blocks',
      new ModuleList(
        Array.from(
          { length: c.depth },
          () =>
            new ViTBlock(d, {
              numHeads: c.numHeads,
              mlpHidden: c.ffn === 'swiglu' ? swigluHidden(hidden, c.swigluAlign ?? 8) : hidden,
              ffn: c.ffn,
              qkvBias: c.qkvBias,
              maskKBias: c.maskKBias,
              layerScale: c.layerScale,
              normEps: c.normEps,
              lora: c.lora,
            }),
        ),
      ),
    );
    this.norm = c.finalNorm ? this.registerModule('norm', new LayerNorm(d, { eps: c.normEps })) : null;
  }

  override computedBuffers(): Record<string, tf.Tensor> {
    const c = this.config;
    return c.position.type === 'rope'
      ? { 'rope_embed.periods': ropePeriods(c.embedDim / c.numHeads, c.position.base) }
      : {};
  }

  /**
   * `(x − mean)/std` per RGB channel (`@cvm/nn`'s `normalizeImage`; RADIO: its conditioner buffers), after
   * the `[0, 1]` range check.
   * @param images `[B, H, W, 3]` RGB in [0, 1]
   */
  normalizeInput(images: tf.Tensor4D): tf.Tensor4D {
    if (images.rank !== 4 || images.shape[3] !== 3) {
      throw new Error(
        `${this.constructor.name}: images must be [B, H, W, 3] RGB in [0, 1], got [${images.shape}]`,
      );
    }
    this.inputRangeCheck?.check(images, 'images');
    const cond = this.input_conditioner;
    if (!cond)
      return normalizeImage(images, {
        mean: this.config.inputMean,
        std: this.config.inputStd,
      }) as tf.Tensor4D;
    return tf.tidy(
      () =>
        tf.div(
          tf.sub(images, tf.reshape(cond.norm_mean, [3])),
          tf.reshape(cond.norm_std, [3]),
        ) as tf.Tensor4D,
    );
  }

  /** The patch grid `[gh, gw]` for an `H × W` input (floored; RADIO requires multiples of p). */
  gridSize(height: number, width: number): [number, number] {
    const p = this.patchSize;
    if (this.family === 'radio' && (height % p !== 0 || width % p !== 0)) {
      throw new Error(`RADIO: image size ${height}x${width} must be a multiple of the patch size ${p}`);
    }
    const grid: [number, number] = [Math.floor(height / p), Math.floor(width / p)];
    if (grid[0] < 1 || grid[1] < 1)
      throw new Error(
        `${this.constructor.name}: image ${height}x${width} is smaller than one ${p}x${p} patch`,
      );
    return grid;
  }

  /**
   * Normalised input → token sequence (prefix tokens then patches) with position information added
   * where the family adds it (RoPE is applied inside attention instead).
   * @param images `[B, H, W, 3]` RGB in [0, 1]
   */
  embed(images: tf.Tensor4D): Embedded {
    const grid = this.gridSize(images.shape[1], images.shape[2]);
    const tokens = tf.tidy(() => {
      const x = this.normalizeInput(images);
      if (this.patch_generator) return this.patch_generator.forward(x).tokens;
      const patches = this.patch_embed!.forward(x);
      const [b, gh, gw, d] = patches.shape;
      const parts: tf.Tensor[] = [];
      if (this.cls_token) parts.push(tf.tile(this.cls_token, [b, 1, 1]));
      if (this.register_tokens) parts.push(tf.tile(this.register_tokens, [b, 1, 1]));
      parts.push(tf.reshape(patches, [b, gh * gw, d]));
      let seq = parts.length > 1 ? tf.concat(parts, 1) : parts[0];
      if (this.pos_embed && this.config.position.type === 'learned') {
        seq = tf.add(
          seq,
          resampleAbsPosEmbed(this.pos_embed, this.config.position.grid, grid, this.numPrefixTokens),
        );
      }
      return seq as tf.Tensor3D;
    });
    return { tokens, grid };
  }

  /** DINOv3's RoPE tables for a grid, or null for other families. */
  rope(grid: readonly [number, number]): { sin: tf.Tensor2D; cos: tf.Tensor2D } | null {
    return this.rope_embed ? ropeTables(grid[0], grid[1], this.rope_embed.periods) : null;
  }

  /** `[B, prefix + gh·gw, D]` → the patch tokens as a map `[B, gh, gw, D]`. */
  toMap(tokens: tf.Tensor, grid: readonly [number, number]): tf.Tensor4D {
    const [b, n, d] = tokens.shape as [number, number, number];
    return tf.reshape(tf.slice(tokens, [0, this.numPrefixTokens, 0], [b, n - this.numPrefixTokens, d]), [
      b,
      grid[0],
      grid[1],
      d,
    ]) as tf.Tensor4D;
  }

  /**
   * Runs the blocks `0..last` and returns, in order, every tensor `pick(i, x, grid)` returns after block
   * `i` (0-based). Everything else is freed; the picked tensors belong to the caller's scope, so this is
   * safe inside `tf.tidy` and `tf.variableGrads`.
   */
  runBlocks(
    images: tf.Tensor4D,
    last: number,
    pick: (i: number, x: tf.Tensor3D, grid: [number, number]) => tf.Tensor[],
  ): tf.Tensor[] {
    return tf.tidy(() => {
      const { tokens, grid } = this.embed(images);
      const rope = this.rope(grid);
      const out: tf.Tensor[] = [];
      let x: tf.Tensor3D = tokens;
      for (let i = 0; i <= last; i++) {
        const next = this.blocks.get(i).forward(x, rope) as tf.Tensor3D;
        x.dispose(); // free each block's input early (picked tensors are copies or hold their own reference)
        x = next;
        out.push(...pick(i, x, grid));
      }
      return out;
    });
  }

  forwardIntermediates(images: tf.Tensor4D, options: IntermediatesOptions = {}): tf.Tensor4D[] {
    const { layers, sorted, readOut } = this.readOutPlan(options);
    const maps = this.runBlocks(images, sorted[sorted.length - 1], (i, x, grid) =>
      sorted.includes(i) ? [readOut(x, grid)] : [],
    ) as tf.Tensor4D[];
    return layers.map((l) => maps[sorted.indexOf(l)]);
  }

  /**
   * `forwardIntermediates` cut at every block for activation checkpointing (`checkpointedGradients` of
   * `@cvm/nn`): the embedding, then one segment per block up to the last read-out. The state between
   * segments is the maps read out so far, then the tokens `[B, prefix + gh·gw, D]`; the last segment
   * returns the maps in `layers` order. Each block's segment recomputes the RoPE tables (cheap) rather
   * than receiving them. Same code as `forwardIntermediates`, so the same maps.
   * @param images `[B, H, W, 3]` RGB in `[0, 1]`
   * @example
   * const { inputs, segments } = vit.forwardIntermediatesSegments(images);
   * const loss: Segment = (maps) => [tf.addN(maps.map((m) => tf.mean(tf.square(m))))];
   * const { value, grads } = checkpointedGradients([...segments, loss], inputs, vit.parameters());
   */
  override forwardIntermediatesSegments(
    images: tf.Tensor4D,
    options: IntermediatesOptions = {},
  ): { inputs: tf.Tensor[]; segments: Segment[] } {
    const { layers, sorted, readOut } = this.readOutPlan(options);
    const grid = this.gridSize(images.shape[1], images.shape[2]);
    const last = sorted[sorted.length - 1];
    const blocks = Array.from(
      { length: last + 1 },
      (_, i): Segment =>
        (state) =>
          tf.tidy(() => {
            const maps = state.slice(0, -1);
            const x = this.blocks.get(i).forward(state[state.length - 1], this.rope(grid));
            if (sorted.includes(i)) maps.push(readOut(x as tf.Tensor3D, grid));
            return i < last ? [...maps, x] : layers.map((l) => maps[sorted.indexOf(l)]);
          }),
    );
    return { inputs: [images], segments: [([ims]) => [this.embed(ims as tf.Tensor4D).tokens], ...blocks] };
  }

  /**
   * The final features (after the final norm, when there is one).
   * @param images `[B, H, W, 3]` RGB in [0, 1]
   * @returns `prefix` `[B, numPrefixTokens, D]` (class then registers) and `patches` `[B, H/p, W/p, D]`
   */
  forwardFeatures(images: tf.Tensor4D): { prefix: tf.Tensor3D; patches: tf.Tensor4D } {
    const [prefix, patches] = this.runBlocks(images, this.depth - 1, (i, x, grid) => {
      if (i < this.depth - 1) return [];
      const y = this.norm ? this.norm.forward(x) : x;
      const [b, , d] = y.shape;
      return [tf.slice(y, [0, 0, 0], [b, this.numPrefixTokens, d]), this.toMap(y, grid)];
    });
    return { prefix: prefix as tf.Tensor3D, patches: patches as tf.Tensor4D };
  }

  /** The read-out blocks of `forwardIntermediates(options)` (as given, and sorted without repeats) and the read-out. */
  private readOutPlan(options: IntermediatesOptions): {
    layers: readonly number[];
    sorted: number[];
    readOut: (x: tf.Tensor3D, grid: [number, number]) => tf.Tensor4D;
  } {
    const layers = this.checkLayers(options.layers ?? this.outLayers);
    if (options.task !== undefined) {
      throw new Error(`${this.constructor.name}: has no tasks (got task '${options.task}')`);
    }
    const norm = (options.norm ?? this.normIntermediates) && this.norm !== null;
    return {
      layers,
      sorted: [...new Set(layers)].sort((a, b) => a - b),
      readOut: (x, grid) => this.toMap(norm ? this.norm!.forward(x) : x, grid),
    };
  }

  private checkLayers(layers: readonly number[]): readonly number[] {
    if (layers.length === 0) throw new Error(`${this.constructor.name}: layers must name at least one block`);
    for (const l of layers) {
      if (!Number.isInteger(l) || l < 0 || l >= this.depth) {
        throw new Error(
          `${this.constructor.name}: layer ${l} is not a block index in [0, ${this.depth}) (0-based)`,
        );
      }
    }
    return layers;
  }
}
