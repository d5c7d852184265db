export type { DecodeHeadOptions, FusionResolution } from './decode-head.js';
export { DecodeHead } from './decode-head.js';
export type { MultiScaleEncoder } from './encoder.js';
export { createEvaluator, evaluateBatch, predictTasks } from './evaluation.js';
export {
  balancedBinaryCrossEntropyLoss,
  balancedCrossEntropyLoss,
  crossEntropyLoss,
  depthL1Loss,
  IGNORE_INDEX,
  l2Normalize,
  normalsL1Loss,
} from './losses.js';
export type { MultiTaskLossResult } from './multi-task-loss.js';
export { multiTaskLoss } from './multi-task-loss.js';
export type {
  CvmAblation,
  CvmVariant,
  MultiTaskForwardOptions,
  MultiTaskIntermediates,
  MultiTaskModelConfig,
  TaskOutputs,
} from './multi-task-model.js';
export { MultiTaskModel } from './multi-task-model.js';
export type { DatasetName, TaskActivation, TaskDefinition, TaskName } from './tasks.js';
export { datasetTasks, taskDefinition } from './tasks.js';
export { loadSakHead, loadSakHeads } from './sak-weights.js';
export type { StepReport, TrainBatch, TrainerOptions } from './train-step.js';
export { Trainer } from './train-step.js';
export type { TrainingState } from './training-memory.js';
export { checkTrainingStateFits, trainingStateBytes, WASM32_HEAP_BYTES } from './training-memory.js';
