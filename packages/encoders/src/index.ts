// @cvm/encoders: ViT encoders (DINOv3, RADIO, SAK, tiny ViTs) and their checkpoints.

// Encoders: the common interface, the configurable ViT family, SAK, and the named presets.
export type { EncoderFamily, IntermediatesOptions } from './encoder.js';
export { Encoder } from './encoder.js';
export type { PositionConfig, ViTConfig } from './vit-config.js';
export { CLIP_MEAN, CLIP_STD, SAT493M_MEAN, SAT493M_STD, validateViTConfig } from './vit-config.js';
export { VisionTransformer } from './vit.js';
export { Adapter, MoR, SAKEncoder } from './sak.js';
export type { EncoderConfig, SAKConfig } from './presets.js';
export { PRESETS } from './presets.js';
export type { EncoderOverrides } from './registry.js';
export { buildEncoder, createEncoder, encoderConfig, listEncoders } from './registry.js';

// Fine-tuning: trainable selection and LoRA.
export { freeze, isLoRAParameter, setTrainable } from './fine-tuning.js';
export type { LoRAConfig } from './layers/lora.js';
export { LoRALinear } from './layers/lora.js';

// Checkpoints: loading by name in every naming scheme, and what a checkpoint holds.
export type { CheckpointReport, LoadCheckpointOptions } from './checkpoint/load.js';
export { loadCheckpoint, loadCheckpointContents } from './checkpoint/load.js';
export type { NamingScheme, RenamedCheckpoint } from './checkpoint/key-maps.js';
export { renameCheckpoint } from './checkpoint/key-maps.js';
export type { DetectedEncoder } from './detect.js';
export { detectEncoder } from './detect.js';

// Reading containers: safetensors or torch.save zips through the restricted unpickler.
export type { CheckpointContents } from './checkpoint/read-checkpoint.js';
export { readCheckpoint } from './checkpoint/read-checkpoint.js';
export type { TorchFile } from './checkpoint/torch-file.js';
export { readTorchFile } from './checkpoint/torch-file.js';
export type { PickleValue } from './checkpoint/pickle.js';
export {
  PyGlobal,
  PyObject,
  PyTuple,
  TorchStorage,
  TorchTensor,
  UnsafePickleError,
  unpickle,
} from './checkpoint/pickle.js';
export type { ZipEntry } from './checkpoint/zip.js';
export { readZip } from './checkpoint/zip.js';
