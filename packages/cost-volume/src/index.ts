import './kernels/cpu.js';
import './kernels/webgpu.js';
import './kernels/wasm.js';
import './gradients.js';

export { costVolume } from './ops/cost-volume.js';
export type { CostVolumeImplementation, CostVolumeIntrinsics, CostVolumeOptions } from './ops/cost-volume.js';
export { DEFAULT_CHUNK_SIZE, costVolumeComposite } from './composite/cost-volume.js';
export { COST_VOLUME, COST_VOLUME_GRAD } from './kernel-names.js';
export { costVolumeCpu, costVolumeGradCpu } from './kernels/cpu-impl.js';
export type { CostVolumeSizes } from './kernels/cpu-impl.js';
