export type { MultiViewBatch, SplitMultiViewBatch } from './batch.js';
export { splitMultiViewBatch } from './batch.js';
export type { CvmCameras } from './cameras.js';
export type { CvmMacs } from './cost.js';
export { estimateMacs } from './cost.js';
export type {
  CrossViewModuleConfig,
  CvmIntermediates,
  CvmMode,
  CvmPartAblation,
} from './cross-view-module.js';
export { CrossViewModule, FEATURE_STRIDE } from './cross-view-module.js';
export type { CvmSizeName } from './size-presets.js';
export { CVM_SIZE_PRESETS } from './size-presets.js';
export type {
  AttentionContext,
  BlockContext,
  MultiViewTransformerOptions,
  TransformerLayerOptions,
} from './multiview-transformer.js';
export { MultiViewTransformer, TransformerBlock, TransformerLayer } from './multiview-transformer.js';
export type { SpatialEncoderOptions } from './spatial-encoder.js';
export { ResidualBlock, SpatialEncoder } from './spatial-encoder.js';
export type { UniMatchLoadReport } from './unimatch-weights.js';
export { loadUniMatchWeights } from './unimatch-weights.js';
export type { UpsamplerKind, UpsamplerOptions } from './upsampler.js';
export { ConvexUpsampler, convexUpsample, PixelShuffleUpsampler, pixelShuffle } from './upsampler.js';
export type { MultiViewWindowAttentionOptions } from './window-attention.js';
export { multiViewWindowAttention, windowPositionEncoding } from './window-attention.js';
