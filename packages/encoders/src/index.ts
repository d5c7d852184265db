export type { EncoderFamily, IntermediatesOptions } from './encoder.js';
export { Encoder } from './encoder.js';
export type { EncoderConfig, SAKConfig } from './presets.js';
export { PRESETS } from './presets.js';
export type { EncoderOverrides } from './registry.js';
export { buildEncoder, createEncoder, encoderConfig, listEncoders } from './registry.js';
export { Adapter, MoR, SAKEncoder } from './sak.js';
export type { PositionConfig, ViTConfig } from './vit-config.js';
export {
  CLIP_MEAN,
  CLIP_STD,
  IMAGENET_MEAN,
  IMAGENET_STD,
  SAT493M_MEAN,
  SAT493M_STD,
  validateViTConfig,
} from './vit-config.js';
export { VisionTransformer } from './vit.js';
