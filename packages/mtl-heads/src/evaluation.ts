import { type DenseInput, MultiTaskEvaluator, type MultiTaskOptions } from '@cvm/metrics';
import * as tf from '@tensorflow/tfjs-core';
import type { TaskOutputs } from './multi-task-model.js';
import type { TaskDefinition, TaskName } from './tasks.js';

/**
 * Each task's prediction in the form its `@cvm/metrics` evaluator reads (`TaskDefinition.predict`):
 * new tensors, owned by the caller.
 * @example
 * const preds = predictTasks(datasetTasks('nyud'), model.forward([image]));
 */
export function predictTasks(
  tasks: readonly TaskDefinition[],
  outputs: TaskOutputs,
): Partial<Record<TaskName, tf.Tensor>> {
  const out: Partial<Record<TaskName, tf.Tensor>> = {};
  for (const t of tasks) {
    const o = outputs[t.name];
    if (!o) throw new Error(`predictTasks: no output for task '${t.name}'`);
    out[t.name] = t.predict(o);
  }
  return out;
}

/**
 * The `MultiTaskEvaluator` of these tasks (their dataset, their subset), with `options` passed on.
 * @example
 * const evaluator = createEvaluator(datasetTasks('nyud'), { baseline: PAPER_BASELINES.nyudVitBStl.scores });
 */
export function createEvaluator(
  tasks: readonly TaskDefinition[],
  options: Omit<MultiTaskOptions, 'dataset' | 'tasks'> = {},
): MultiTaskEvaluator {
  if (tasks.length === 0) throw new Error('createEvaluator: no tasks');
  return new MultiTaskEvaluator({ ...options, dataset: tasks[0].dataset, tasks: tasks.map((t) => t.name) });
}

/**
 * Adds one batch to `evaluator`: the model's outputs turned into predictions (`predictTasks`) against
 * the labels (GT as the evaluators take it; crop padding first for edges). Intermediate tensors are
 * disposed; `outputs` and `labels` are not.
 */
export async function evaluateBatch(
  evaluator: MultiTaskEvaluator,
  tasks: readonly TaskDefinition[],
  outputs: TaskOutputs,
  labels: Partial<Record<TaskName, DenseInput>>,
): Promise<void> {
  const preds = predictTasks(tasks, outputs);
  try {
    await evaluator.update(preds, labels);
  } finally {
    tf.dispose(Object.values(preds) as tf.Tensor[]);
  }
}
