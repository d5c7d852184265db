export { initNodeWebGPU, SWIFTSHADER_ICD } from './node-webgpu.js';
export type { NodeWebGPUOptions, NodeWebGPUResult } from './node-webgpu.js';
export { selectBackend, DEFAULT_BACKEND_ORDER, KNOWN_BACKENDS } from './select-backend.js';
export type { BackendChoice, BackendName } from './select-backend.js';
export { hasWebGPUForTests, useWebGPUForTests } from './testing.js';
