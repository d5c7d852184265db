import { DATASET_TASKS, type DatasetName, NUM_CLASSES, type TaskName } from '@cvm/metrics';
import * as tf from '@tensorflow/tfjs-core';
import {
  balancedBinaryCrossEntropyLoss,
  balancedCrossEntropyLoss,
  crossEntropyLoss,
  depthL1Loss,
  l2Normalize,
  normalsL1Loss,
} from './losses.js';

export type { DatasetName, TaskName };

/** How a task turns its head's output into what it is, at inference. */
export type TaskActivation = 'softmax' | 'sigmoid' | 'unitNormalize' | 'identity';

/**
 * Everything the project knows about one task on one dataset (SAK `losses.py`, `configs.py`,
 * `utils.get_output`): the head's channels, the loss and its weight, the activation at inference and
 * the prediction handed to `@cvm/metrics` (the matching evaluator of `MultiTaskEvaluator`).
 */
export interface TaskDefinition {
  readonly name: TaskName;
  readonly dataset: DatasetName;
  /** Output channels of the head (logits or values). */
  readonly channels: number;
  readonly activation: TaskActivation;
  /** The protocol's loss weight on this dataset. */
  readonly lossWeight: number;
  /**
   * The unweighted loss. `output` `[B,H,W,channels]` at label resolution; `label` as the datasets
   * batch holds it (`[B,H,W]` int32 ids / float32 depth, `[B,H,W,3]` normals; 255 = ignore).
   */
  loss(output: tf.Tensor, label: tf.Tensor): tf.Scalar;
  /**
   * The prediction in the form its `@cvm/metrics` evaluator reads (new tensor, caller owns it):
   * semseg / human_parts: class ids `[B,H,W]` int32 (argmax); sal: foreground probability `[B,H,W]`
   * (softmax channel 1); edge: probability `[B,H,W]` (sigmoid); normals: unit vectors `[B,H,W,3]`;
   * depth: metres `[B,H,W]` clamped at 0.
   */
  predict(output: tf.Tensor): tf.Tensor;
}

function argmaxIds(output: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.cast(tf.argMax(output, -1), 'int32'));
}

const LOSS_WEIGHTS: Record<DatasetName, Partial<Record<TaskName, number>>> = {
  nyud: { semseg: 1, depth: 1, normals: 10, edge: 50 },
  pascal: { semseg: 1, human_parts: 2, sal: 5, normals: 10, edge: 50 },
};

function define(name: TaskName, dataset: DatasetName): TaskDefinition {
  const lossWeight = LOSS_WEIGHTS[dataset][name];
  if (lossWeight === undefined) {
    throw new Error(`task '${name}' is not a ${dataset} task (${DATASET_TASKS[dataset].join(', ')})`);
  }
  const base = { name, dataset, lossWeight };
  switch (name) {
    case 'semseg':
    case 'human_parts':
      return {
        ...base,
        channels:
          name === 'human_parts'
            ? NUM_CLASSES.pascalParts
            : dataset === 'nyud'
              ? NUM_CLASSES.nyudSemseg
              : NUM_CLASSES.pascalSemseg,
        activation: 'softmax',
        loss: crossEntropyLoss,
        predict: argmaxIds,
      };
    case 'sal':
      return {
        ...base,
        channels: 2,
        activation: 'softmax',
        loss: balancedCrossEntropyLoss,
        predict: (o) =>
          tf.tidy(() => tf.squeeze(tf.slice(tf.softmax(o), [0, 0, 0, 1], [-1, -1, -1, 1]), [3])),
      };
    case 'edge':
      return {
        ...base,
        channels: 1,
        activation: 'sigmoid',
        loss: (o, l) => balancedBinaryCrossEntropyLoss(o, l, 0.95),
        predict: (o) => tf.tidy(() => tf.squeeze(tf.sigmoid(o), [3])),
      };
    case 'normals':
      return {
        ...base,
        channels: 3,
        activation: 'unitNormalize',
        loss: normalsL1Loss,
        predict: (o) => l2Normalize(o),
      };
    case 'depth':
      return {
        ...base,
        channels: 1,
        activation: 'identity',
        loss: depthL1Loss,
        predict: (o) => tf.tidy(() => tf.squeeze(tf.relu(o), [3])),
      };
  }
}

/**
 * The definition of `task` on `dataset`.
 * @example
 * taskDefinition('semseg', 'nyud').channels; // 40
 * taskDefinition('edge', 'pascal').lossWeight; // 50
 */
export function taskDefinition(task: TaskName, dataset: DatasetName): TaskDefinition {
  if (!(dataset in DATASET_TASKS)) throw new Error(`dataset must be 'nyud' or 'pascal', got '${dataset}'`);
  return define(task, dataset);
}

/**
 * The definitions of a dataset's tasks (all of them in the paper's order, or `tasks`; one task is the
 * single-task setting).
 * @example
 * datasetTasks('pascal').map((t) => t.name); // ['semseg', 'human_parts', 'sal', 'normals', 'edge']
 */
export function datasetTasks(dataset: DatasetName, tasks?: readonly TaskName[]): TaskDefinition[] {
  if (!(dataset in DATASET_TASKS)) throw new Error(`dataset must be 'nyud' or 'pascal', got '${dataset}'`);
  const names = tasks ?? DATASET_TASKS[dataset];
  if (names.length === 0) throw new Error('datasetTasks: no tasks given');
  if (new Set(names).size !== names.length)
    throw new Error(`datasetTasks: repeated task in [${names.join(', ')}]`);
  return names.map((t) => define(t, dataset));
}
