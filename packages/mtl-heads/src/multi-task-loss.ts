import * as tf from '@tensorflow/tfjs-core';
import type { TaskDefinition, TaskName } from './tasks.js';

/** What `multiTaskLoss` returns; every tensor is a new scalar owned by the caller. */
export interface MultiTaskLossResult {
  /** `Σ_t weight_t · loss_t`. */
  total: tf.Scalar;
  /** Per task, already multiplied by its weight (the values SAK's `MultiTaskLoss` logs). */
  weighted: Partial<Record<TaskName, tf.Scalar>>;
  /** Per task, before the weight. */
  unweighted: Partial<Record<TaskName, tf.Scalar>>;
}

/**
 * The protocol's multi-task objective: each task's loss on its output, weighted by the dataset's task
 * weight, summed. Differentiable in `outputs`.
 * @param tasks the task definitions (`datasetTasks(...)`)
 * @param outputs per task `[B,H,W,channels]` at label resolution
 * @param labels per task, as the datasets batch holds them
 * @example
 * const { total, weighted } = multiTaskLoss(datasetTasks('nyud'), outputs, batch.labels);
 */
export function multiTaskLoss(
  tasks: readonly TaskDefinition[],
  outputs: Partial<Record<TaskName, tf.Tensor>>,
  labels: Partial<Record<TaskName, tf.Tensor>>,
): MultiTaskLossResult {
  for (const t of tasks) {
    if (!outputs[t.name]) throw new Error(`multiTaskLoss: no output for task '${t.name}'`);
    if (!labels[t.name]) throw new Error(`multiTaskLoss: no label for task '${t.name}'`);
  }
  if (tasks.length === 0) throw new Error('multiTaskLoss: no tasks');
  const weighted: MultiTaskLossResult['weighted'] = {};
  const unweighted: MultiTaskLossResult['unweighted'] = {};
  for (const t of tasks) {
    const raw = t.loss(outputs[t.name] as tf.Tensor, labels[t.name] as tf.Tensor);
    unweighted[t.name] = raw;
    weighted[t.name] = tf.mul(raw, t.lossWeight) as tf.Scalar;
  }
  const total = tf.addN(tasks.map((t) => weighted[t.name] as tf.Scalar)) as tf.Scalar;
  return { total, weighted, unweighted };
}
