import { splitMultiViewBatch } from '@cvm/cvm-module';
import type { Batch, DataLoader } from '@cvm/datasets/node';
import { batchToTensors, disposeBatchTensors } from '@cvm/datasets/tfjs';
import type { MultiTaskResult, TaskScores } from '@cvm/metrics';
import {
  createEvaluator,
  evaluateBatch,
  type MultiTaskModel,
  predictTasks,
  type TaskName,
} from '@cvm/mtl-heads';
import * as tf from '@tensorflow/tfjs-core';

/** Host copies of one val batch's inputs, labels and predictions (for the prediction images). */
export interface PredictionSample {
  id: string;
  height: number;
  width: number;
  /** `[H,W,3]` RGB in [0,1] of the reference view. */
  rgb: Float32Array;
  pred: Partial<Record<TaskName, Float32Array | Int32Array>>;
  gt: Partial<Record<TaskName, Float32Array | Int32Array>>;
}

/** Runs the model on a batch's views and cameras (inference or training mode as the model is set). */
export function forwardBatch(model: MultiTaskModel, t: ReturnType<typeof batchToTensors>) {
  const { images, cameras } = splitMultiViewBatch(t);
  try {
    return model.forward(images, images.length > 1 ? cameras : null);
  } finally {
    tf.dispose(images);
  }
}

/**
 * Evaluates `model` on the loader's batches (in split order, at most `limit` samples, 0 = all) with
 * `@cvm/metrics`' evaluators; keeps host copies of the first `keep` samples for prediction images.
 */
export async function evaluateModel(
  model: MultiTaskModel,
  loader: DataLoader,
  { limit = 0, keep = 0, baseline }: { limit?: number; keep?: number; baseline?: TaskScores } = {},
): Promise<{ result: MultiTaskResult; samples: PredictionSample[]; seen: number }> {
  const evaluator = createEvaluator(model.tasks, baseline ? { baseline } : {});
  const samples: PredictionSample[] = [];
  let seen = 0;
  model.eval();
  try {
    for await (const batch of loader.epoch(0) as AsyncGenerator<Batch>) {
      if (limit > 0 && seen >= limit) break;
      const t = batchToTensors(batch);
      const outputs = forwardBatch(model, t);
      try {
        await evaluateBatch(evaluator, model.tasks, outputs, t.labels);
        if (samples.length < keep)
          samples.push(...(await hostSamples(model, batch, outputs, keep - samples.length)));
      } finally {
        tf.dispose(Object.values(outputs) as tf.Tensor[]);
        disposeBatchTensors(t);
      }
      seen += batch.size;
    }
  } finally {
    model.train();
  }
  return { result: evaluator.result(), samples, seen };
}

async function hostSamples(
  model: MultiTaskModel,
  batch: Batch,
  outputs: ReturnType<MultiTaskModel['forward']>,
  count: number,
): Promise<PredictionSample[]> {
  const preds = predictTasks(model.tasks, outputs);
  const { height: H, width: W, views: V } = batch;
  const out: PredictionSample[] = [];
  try {
    const predData: Partial<Record<TaskName, Float32Array | Int32Array>> = {};
    for (const [task, p] of Object.entries(preds) as [TaskName, tf.Tensor][])
      predData[task] = (await p.data()) as Float32Array | Int32Array;
    for (let b = 0; b < Math.min(count, batch.size); b++) {
      const pixels = H * W;
      const slice = (task: TaskName, a: Float32Array | Int32Array) => {
        const c = task === 'normals' ? 3 : 1;
        return a.slice(b * pixels * c, (b + 1) * pixels * c);
      };
      const pred: PredictionSample['pred'] = {};
      const gt: PredictionSample['gt'] = {};
      for (const t of model.tasks) {
        pred[t.name] = slice(t.name, predData[t.name] as Float32Array);
        const label = batch.labels[t.name];
        if (label) gt[t.name] = slice(t.name, label);
      }
      out.push({
        id: batch.ids[b],
        height: H,
        width: W,
        rgb: batch.images.slice(b * V * pixels * 3, (b * V + 1) * pixels * 3),
        pred,
        gt,
      });
    }
  } finally {
    tf.dispose(Object.values(preds) as tf.Tensor[]);
  }
  return out;
}
