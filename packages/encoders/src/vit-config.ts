import type { LoRAConfig } from './layers/lora.js';

/** How position information enters a `VisionTransformer`. */
export type PositionConfig =
  /** DINOv3's axial 2-D RoPE on q/k of the patch tokens (no parameters; `rope_embed.periods` buffer). */
  | { type: 'rope'; base: number }
  /**
   * timm's learned absolute embedding `pos_embed` `[1, (1 if class token) + gh·gw, D]` for a `grid` of
   * patches; other input grids resample the patch part bilinearly (align_corners=False, no antialias).
   */
  | { type: 'learned'; grid: readonly [number, number] }
  /**
   * RADIO's cropped position embedding (CPE): a learned `maxGrid × maxGrid` grid, bilinearly resized to
   * `max(gh, gw)` squared and cropped to the top-left `gh × gw` window.
   */
  | { type: 'cpe'; maxGrid: number };

/**
 * Every option of the ViT family. The family fixes the parameter names and the token layout:
 * - `'dinov3'`: `patch_embed.proj` conv, `cls_token`, `storage_tokens`, `rope_embed.periods`; tokens
 *   `[cls, registers, patches]`, no position embedding on the prefix.
 * - `'timm'`: `patch_embed.proj` conv, `cls_token`, `reg_token`, `pos_embed` (class entry included);
 *   tokens `[cls, registers, patches]` (timm's `VisionTransformer`, as SAK's stem uses it).
 * - `'radio'`: `patch_generator.embedder` (Linear on `(c, y, x)`-ordered patches), `patch_generator.pos_embed`,
 *   `patch_generator.cls_token.token` (`numClassTokens + numRegisters` rows, no position added),
 *   `input_conditioner.norm_mean/norm_std` buffers (loaded from the checkpoint).
 */
export interface ViTConfig {
  family: 'dinov3' | 'timm' | 'radio';
  patchSize: number;
  embedDim: number;
  depth: number;
  numHeads: number;
  /** MLP hidden width = `mlpRatio · D` (for SwiGLU before DINOv3's 2/3 rule and alignment). */
  mlpRatio: number;
  ffn: 'mlp' | 'swiglu';
  /** SwiGLU hidden alignment (DINOv3: 8 for `swiglu`, 64 for `swiglu64`). */
  swigluAlign?: number;
  qkvBias: boolean;
  /** DINOv3's masked key bias (only q and v biases act). */
  maskKBias: boolean;
  /** LayerScale init value, or null for none. */
  layerScale: number | null;
  /** LayerNorm eps (DINOv3 1e-5; timm / RADIO 1e-6). */
  normEps: number;
  /** Class tokens (1; RADIO: one per teacher). */
  numClassTokens: number;
  /** Register / storage tokens. */
  numRegisters: number;
  position: PositionConfig;
  /** Final `norm` present (RADIO and SAK remove it). */
  finalNorm: boolean;
  /**
   * Input normalisation `(x − mean)/std` on RGB in [0, 1] (ImageNet's: `IMAGENET_MEAN/STD` of `@cvm/nn`;
   * RADIO: initial values of its conditioner buffers).
   */
  inputMean: readonly [number, number, number];
  inputStd: readonly [number, number, number];
  /** Default read-out blocks (0-based). */
  outLayers: readonly number[];
  /** Default `norm` of `forwardIntermediates`. */
  normIntermediates: boolean;
  /** Optional LoRA on the attention Linears (the paper's "Encoder + LoRA" variant, Tab. A8). */
  lora?: LoRAConfig | null;
}

/** DINOv3 SAT-493M statistics (README "Image transforms"). */
export const SAT493M_MEAN: readonly [number, number, number] = [0.43, 0.411, 0.296];
export const SAT493M_STD: readonly [number, number, number] = [0.213, 0.156, 0.143];
/** OpenAI CLIP statistics: RADIO's default conditioner (`get_default_conditioner`); checkpoints carry their own. */
export const CLIP_MEAN: readonly [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
export const CLIP_STD: readonly [number, number, number] = [0.26862954, 0.26130258, 0.27577711];

/** Checks a config, throwing an error that names the bad option. */
export function validateViTConfig(c: ViTConfig): void {
  const int = (name: string, v: number, min: number) => {
    if (!Number.isInteger(v) || v < min)
      throw new Error(`ViTConfig: ${name} must be an integer >= ${min}, got ${v}`);
  };
  int('patchSize', c.patchSize, 1);
  int('embedDim', c.embedDim, 1);
  int('depth', c.depth, 1);
  int('numHeads', c.numHeads, 1);
  int('numClassTokens', c.numClassTokens, 0);
  int('numRegisters', c.numRegisters, 0);
  if (c.embedDim % c.numHeads !== 0) {
    throw new Error(`ViTConfig: numHeads=${c.numHeads} must divide embedDim=${c.embedDim}`);
  }
  const want = { dinov3: 'rope', timm: 'learned', radio: 'cpe' }[c.family];
  if (c.position.type !== want) {
    throw new Error(`ViTConfig: family '${c.family}' uses position type '${want}', got '${c.position.type}'`);
  }
  if (c.position.type === 'rope' && (c.embedDim / c.numHeads) % 4 !== 0) {
    throw new Error(`ViTConfig: RoPE needs a head dim divisible by 4, got ${c.embedDim / c.numHeads}`);
  }
  if (c.family !== 'radio' && c.numClassTokens > 1) {
    throw new Error(`ViTConfig: family '${c.family}' has at most one class token, got ${c.numClassTokens}`);
  }
  for (const l of c.outLayers) {
    if (!Number.isInteger(l) || l < 0 || l >= c.depth) {
      throw new Error(`ViTConfig: outLayers entry ${l} is not a block index in [0, ${c.depth})`);
    }
  }
}
