import { registerCpuKernelOnWasm } from '@cvm/geometry';
import { COST_VOLUME, COST_VOLUME_GRAD } from '../kernel-names.js';
import './cpu.js';

// tfjs-backend-wasm: the fused cpu algorithm (forward and backward), run on the wasm heap.
registerCpuKernelOnWasm(COST_VOLUME);
registerCpuKernelOnWasm(COST_VOLUME_GRAD);
