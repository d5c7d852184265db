import { IMAGENET_MEAN, IMAGENET_STD } from '@cvm/nn';
import { CLIP_MEAN, CLIP_STD, SAT493M_MEAN, SAT493M_STD, type ViTConfig } from './vit-config.js';

/** SAK's extra options on top of its timm ViT stem. */
export interface SAKConfig {
  family: 'sak';
  /** The Teacher-Agnostic Stem: timm ViT, no final norm. */
  vit: ViTConfig;
  /** Teacher-Specific Adapter Paths, in config order (`tsap.<teacher>`). */
  teachers: readonly string[];
  /** Adapter bottleneck `D / downRatio`. */
  downRatio: number;
  /** Tasks with a MoR router per output layer (`mor.<layer>_<task>`); empty for stage-1 models. */
  tasks: readonly string[];
  /** MoR routers with the noisy-gating half (eval uses the clean half). */
  noisyGating: boolean;
}

/** Any preset's configuration. */
export type EncoderConfig = ViTConfig | SAKConfig;

/** DINOv3 hub settings (`dinov3/hub/backbones.py`), not `DinoVisionTransformer`'s constructor defaults. */
function dinov3(
  embedDim: number,
  depth: number,
  numHeads: number,
  outLayers: number[],
  ffn: { ffn: 'mlp' | 'swiglu'; mlpRatio: number } = { ffn: 'mlp', mlpRatio: 4 },
): ViTConfig {
  return {
    family: 'dinov3',
    patchSize: 16,
    embedDim,
    depth,
    numHeads,
    ...ffn,
    swigluAlign: 8,
    qkvBias: true,
    maskKBias: true,
    layerScale: 1e-5,
    normEps: 1e-5,
    numClassTokens: 1,
    numRegisters: 4,
    position: { type: 'rope', base: 100 },
    finalNorm: true,
    inputMean: IMAGENET_MEAN,
    inputStd: IMAGENET_STD,
    outLayers,
    normIntermediates: true,
  };
}

/** timm's standard ViT block (`vit_*_patch16_*`): LN eps 1e-6, qkv bias, GELU MLP ×4, no LayerScale; no final norm. */
const TIMM_BLOCKS = {
  patchSize: 16,
  ffn: 'mlp',
  mlpRatio: 4,
  qkvBias: true,
  maskKBias: false,
  layerScale: null,
  normEps: 1e-6,
  finalNorm: false,
  normIntermediates: false,
} as const;

/** RADIOv2.5 (timm `vit_*_patch16_224` blocks, CPE at 2048 px, 4 per-teacher class tokens + 4 registers). */
function radio(embedDim: number, depth: number, numHeads: number, outLayers: number[]): ViTConfig {
  return {
    ...TIMM_BLOCKS,
    family: 'radio',
    embedDim,
    depth,
    numHeads,
    numClassTokens: 4,
    numRegisters: 4,
    position: { type: 'cpe', maxGrid: 128 },
    inputMean: CLIP_MEAN,
    inputStd: CLIP_STD,
    outLayers,
  };
}

/** timm `vit_*_patch16_384` as SAK's stem (augreg), position grid of NYUD-v2's 448×576. */
function timmVit(embedDim: number, depth: number, numHeads: number, outLayers: number[]): ViTConfig {
  return {
    ...TIMM_BLOCKS,
    family: 'timm',
    embedDim,
    depth,
    numHeads,
    numClassTokens: 1,
    numRegisters: 0,
    position: { type: 'learned', grid: [28, 36] },
    inputMean: IMAGENET_MEAN,
    inputStd: IMAGENET_STD,
    outLayers,
  };
}

function sak(vit: ViTConfig): SAKConfig {
  return {
    family: 'sak',
    vit,
    teachers: ['dinov2', 'clip', 'sam'],
    downRatio: 4,
    tasks: ['semseg', 'normals', 'edge', 'depth'], // configs/s2/nyud_s2.yml
    noisyGating: true,
  };
}

/**
 * A small DINOv3-style ViT (RoPE, so any input size) meant to be trained from scratch on a CPU: patch 8,
 * no registers, no LayerScale.
 */
function tiny(embedDim: number, depth: number, numHeads: number, outLayers: number[]): ViTConfig {
  return {
    ...dinov3(embedDim, depth, numHeads, outLayers),
    patchSize: 8,
    numRegisters: 0,
    layerScale: null,
  };
}

/** Every named preset. */
export const PRESETS: Readonly<Record<string, EncoderConfig>> = {
  dinov3_vits16: dinov3(384, 12, 6, [2, 5, 8, 11]),
  dinov3_vits16plus: dinov3(384, 12, 6, [2, 5, 8, 11], { ffn: 'swiglu', mlpRatio: 6 }),
  dinov3_vitb16: dinov3(768, 12, 12, [2, 5, 8, 11]),
  // DINOv3's own dense evals read blocks [4, 11, 17, 23] of ViT-L ("used in the paper").
  dinov3_vitl16: dinov3(1024, 24, 16, [4, 11, 17, 23]),
  // The satellite (SAT-493M) ViT-L: same network, its own input statistics (its `local_cls_norm` is ignored).
  dinov3_vitl16_sat493m: {
    ...dinov3(1024, 24, 16, [4, 11, 17, 23]),
    inputMean: SAT493M_MEAN,
    inputStd: SAT493M_STD,
  },
  'radio_v2.5-b': radio(768, 12, 12, [2, 5, 8, 11]),
  'radio_v2.5-l': radio(1024, 24, 16, [5, 11, 17, 23]),
  sak_vitb16: sak(timmVit(768, 12, 12, [2, 5, 8, 11])),
  sak_vitl16: sak(timmVit(1024, 24, 16, [5, 11, 17, 23])),
  vit_tiny_p8: tiny(192, 6, 3, [1, 2, 4, 5]),
  vit_nano_p8: tiny(96, 4, 2, [0, 1, 2, 3]),
};
