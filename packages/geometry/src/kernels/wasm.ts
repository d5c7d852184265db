import { GRID_SAMPLE, GRID_SAMPLE_GRAD } from '../kernel-names.js';
import './cpu.js';
import { registerCpuKernelOnWasm } from './cpu-kernel-on-wasm.js';

// tfjs-backend-wasm: the cpu algorithm of gridSample and its gradient, run on the wasm heap.
registerCpuKernelOnWasm(GRID_SAMPLE);
registerCpuKernelOnWasm(GRID_SAMPLE_GRAD);
