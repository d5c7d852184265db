export type { MatrixInput, MatrixBatch } from './matrix-input.js';
export { readMatrices } from './matrix-input.js';
export { checkIntrinsics, invertIntrinsics, scaleIntrinsics } from './camera.js';
export type { IntrinsicsScaling } from './camera.js';
export { checkPoses, relativePose } from './pose.js';
export {
  DEPTH_PRESETS,
  checkDepthRange,
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
export { gridSample } from './ops/grid-sample.js';
export type { GridSampleMode, GridSampleOptions, GridSamplePaddingMode } from './ops/grid-sample.js';
