export type { MatrixInput, MatrixBatch } from './matrix-input.js';
export { readMatrices } from './matrix-input.js';
export { checkIntrinsics, invertIntrinsics, scaleIntrinsics } from './camera.js';
export type { IntrinsicsScaling } from './camera.js';
export { checkPoses, invertPoseData, relativePose } from './pose.js';
export { mul4 as multiply4x4 } from './small-matrix.js';
export {
  DEPTH_PRESETS,
  checkDepthRange,
  checkInverseDepths,
  inverseDepthCandidates,
  inverseDepthCandidatesData,
} from './depth-candidates.js';
export type { DepthRange } from './depth-candidates.js';
export {
  MIN_PROJECTED_DEPTH,
  planeSweepCoordinates,
  planeSweepCoordinatesFromProjection,
  projectReferencePixels,
  planeSweepProjection,
} from './plane-sweep.js';
export type { PairIntrinsics, PlaneSweepProjection } from './plane-sweep.js';
export { depthToNormals, depthToPoints } from './depth.js';
export { gridSample, gridSampleInputGrad } from './ops/grid-sample.js';
export { warpByDepth } from './warp-by-depth.js';
export type { WarpByDepthOptions } from './warp-by-depth.js';
export type { GridSampleMode, GridSampleOptions, GridSamplePaddingMode } from './ops/grid-sample.js';
// Side effects: register the gridSample kernels (cpu, webgpu) and its gradient.
import './kernels/cpu.js';
import './kernels/webgpu.js';
import './kernels/wasm.js';
import './gradients.js';
/** For kernel packages: run a kernel written for the cpu backend on tfjs-backend-wasm's heap. */
export { registerCpuKernelOnWasm } from './kernels/cpu-kernel-on-wasm.js';
