export { initNodeWebGPU, SWIFTSHADER_ICD } from './node-webgpu.js';
export type { NodeWebGPUOptions, NodeWebGPUResult } from './node-webgpu.js';
export { selectBackend, DEFAULT_BACKEND_ORDER, KNOWN_BACKENDS } from './select-backend.js';
export type { BackendChoice, BackendName, SelectBackendOptions } from './select-backend.js';
export { describeAdapter, isSoftwareAdapter } from './webgpu-adapter.js';
export type { AdapterInfo } from './webgpu-adapter.js';
export { useWebGPUForTests } from './testing.js';
export { registerWasmBackend, wasmThreadsCount } from './wasm/wasm-backend.js';
export type { WasmBackendOptions } from './wasm/wasm-backend.js';
