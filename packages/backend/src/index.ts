export { initNodeWebGPU, SWIFTSHADER_ICD } from './node-webgpu.js';
export type { NodeWebGPUOptions, NodeWebGPUResult } from './node-webgpu.js';
export { selectBackend, DEFAULT_BACKEND_ORDER, KNOWN_BACKENDS } from './select-backend.js';
export type { BackendChoice, BackendName, SelectBackendOptions } from './select-backend.js';
export { describeAdapter, isSoftwareAdapter } from './webgpu-adapter.js';
export type { AdapterInfo } from './webgpu-adapter.js';
export { hasWebGPUForTests, useWebGPUForTests } from './testing.js';
export { registerWasmBackend, wasmThreadsCount } from './wasm/wasm-backend.js';
export type { WasmBackendOptions } from './wasm/wasm-backend.js';
export {
  CPU_XNNPACK,
  OFFLOADED_KERNELS,
  cpuXnnpackHeapBytes,
  registerCpuXnnpackBackend,
  syncCpuXnnpackKernels,
} from './cpu-xnnpack/cpu-xnnpack-backend.js';
export { cpuConv2DBackpropFilterConfig, registerCpuTrainingKernels } from './cpu/conv2d-backprop-filter.js';
export { registerWebGPUKernelFixes } from './webgpu/add-n.js';
export { recordKernelCalls, timeKernelCall } from './kernel-calls.js';
export type { KernelCall, RecordedKernel } from './kernel-calls.js';
