export { Module, ModuleList } from './module.js';
export type { NamedEntry, TensorLayout } from './module.js';
export { Conv2d, conv2d } from './conv.js';
export type { Conv2dOptions } from './conv.js';
export { Linear, linear } from './linear.js';
export { InstanceNorm, InstanceNorm2d, LayerNorm, instanceNorm, layerNorm } from './normalization.js';
export { GELU, SiLU, gelu, silu } from './activation.js';
export { SwiGLU } from './swiglu.js';
export { MultiHeadAttention, multiHeadAttention, scaledDotProductAttention } from './attention.js';
export { roll, shiftedWindowMask, windowPartition, windowReverse } from './window.js';
export { positionEmbeddingSine } from './position-encoding.js';
export type { PositionEmbeddingSineOptions } from './position-encoding.js';
export {
  Generator,
  calculateGain,
  fanInFanOut,
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
export type { RandomInitOptions } from './init.js';
export {
  bfloat16BitsToFloat32,
  float16BitsToFloat32,
  float32ToBfloat16Bits,
  float32ToFloat16Bits,
} from './half.js';
export { encodeSafetensors, loadSafetensors, readSafetensors, saveSafetensors } from './safetensors.js';
export type {
  DecodedTensor,
  HostTensor,
  SafetensorsContents,
  SafetensorsDtype,
  SafetensorsFloatDtype,
  SafetensorsWriteOptions,
} from './safetensors.js';
export {
  fromTorchLayout,
  loadModuleSafetensors,
  loadStateDict,
  moduleToSafetensors,
  toTorchLayout,
  torchShape,
  torchStateDict,
} from './state-dict.js';
export type { LoadReport, LoadStateDictOptions } from './state-dict.js';
