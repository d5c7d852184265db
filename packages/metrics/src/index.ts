export {
  averagePrecision,
  BOUNDARY_MAX_DIST,
  type BoundaryCounts,
  BoundaryEvaluator,
  type BoundaryOptions,
  type BoundaryResult,
  boundaryCountsForImage,
  boundaryThresholds,
  prf,
} from './boundary/evaluator.js';
export { boundariesFromLabels, seismGroundTruth } from './boundary/from-labels.js';
export { BoundaryMatcher, discOffsets } from './boundary/match.js';
export { convTri, type EdgeNmsOptions, edgeNms, gradient2 } from './boundary/nms.js';
export { thin } from './boundary/thin.js';
export {
  type ConsistencyInput,
  type ConsistencyResult,
  CrossTaskConsistencyEvaluator,
  type Intrinsics,
} from './consistency.js';
export {
  deltaMtl,
  HIGHER_IS_BETTER,
  PAPER_BASELINES,
  type PaperBaseline,
  type TaskName,
  type TaskScores,
} from './delta-mtl.js';
export { type DepthOptions, type DepthResult, DepthEvaluator } from './depth.js';
export type { DenseInput, NonFinitePolicy, ShapedArray } from './input.js';
export {
  DATASET_TASKS,
  type DatasetName,
  formatTable,
  type MultiTaskOptions,
  type MultiTaskResult,
  MultiTaskEvaluator,
  type TableRow,
  toRecord,
} from './multi-task.js';
export {
  AngleAccumulator,
  type AngleStats,
  angleDegrees,
  type NormalsOptions,
  type NormalsResult,
  NormalsEvaluator,
} from './normals.js';
export {
  SALIENCY_THRESHOLDS,
  type SaliencyOptions,
  type SaliencyResult,
  SaliencyEvaluator,
} from './saliency.js';
export {
  NUM_CLASSES,
  type SegmentationOptions,
  type SegmentationResult,
  SegmentationEvaluator,
} from './segmentation.js';
