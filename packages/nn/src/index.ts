export { GELU, gelu, SiLU, silu } from './activation.js';
export type { CheckpointedGradients, Segment } from './checkpoint.js';
export { checkpointedGradients, isRecomputing, passThrough } from './checkpoint.js';
export type { BatchNorm2dOptions } from './batch-norm.js';
export { BatchNorm2d } from './batch-norm.js';
export { MultiHeadAttention, multiHeadAttention, scaledDotProductAttention } from './attention.js';
export type { Conv2dOptions } from './conv.js';
export { Conv2d, conv2d } from './conv.js';
export {
  bfloat16BitsToFloat32,
  float16BitsToFloat32,
  float32ToBfloat16Bits,
  float32ToFloat16Bits,
} from './half.js';
export type { NormalizeImageOptions } from './image.js';
export {
  checkImageRange,
  IMAGE_RANGE_TOLERANCE,
  IMAGENET_MEAN,
  IMAGENET_STD,
  ImageRangeCheck,
  normalizeImage,
} from './image.js';
export type { RandomInitOptions } from './init.js';
export {
  calculateGain,
  fanInFanOut,
  Generator,
  initParameter,
  kaimingNormal,
  kaimingUniform,
  manualSeed,
  normal,
  ones,
  truncNormal,
  uniform,
  xavierUniform,
  zeros,
} from './init.js';
export { bilinearMatrixData, interpolateBilinear } from './interpolate.js';
export { Linear, linear } from './linear.js';
export type { NamedEntry, TensorLayout } from './module.js';
export { Module, ModuleDict, ModuleList } from './module.js';
export { InstanceNorm, InstanceNorm2d, instanceNorm, LayerNorm, layerNorm } from './normalization.js';
export type { PositionEmbeddingSineOptions } from './position-encoding.js';
export { positionEmbeddingSine } from './position-encoding.js';
export type {
  DecodedTensor,
  HostTensor,
  SafetensorsContents,
  SafetensorsDtype,
  SafetensorsFloatDtype,
  SafetensorsWriteOptions,
} from './safetensors.js';
export {
  decodeRawValues,
  encodeSafetensors,
  loadSafetensors,
  readSafetensors,
  saveSafetensors,
} from './safetensors.js';
export type { LoadReport, LoadStateDictOptions } from './state-dict.js';
export {
  fromTorchLayout,
  loadModuleSafetensors,
  loadStateDict,
  moduleToSafetensors,
  torchShape,
  torchStateDict,
  toTorchLayout,
} from './state-dict.js';
export { SwiGLU } from './swiglu.js';
export { rearrangement } from './rearrangement.js';
export { roll, shiftedWindowMask, windowPartition, windowReverse } from './window.js';
export type { AdamWOptions } from './optim/adamw.js';
export { AdamW } from './optim/adamw.js';
export type { ClippedGradients } from './optim/clip-grad.js';
export { clipGradNorm } from './optim/clip-grad.js';
export { polynomialLR } from './optim/lr-schedule.js';
