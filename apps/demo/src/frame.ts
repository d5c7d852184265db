/**
 * One frame of the demo: the model's forward on a multi-view input (optionally with an inference-time
 * CvM ablation), its predictions as host arrays, the reference view's cost volume, per-frame metrics
 * against the labels when there are any, and the time per forward. Shared by the page's worker and the
 * Node test that checks the page's numbers.
 */
import type { MultiViewSample, TaskLabels } from '@cvm/datasets';
import type { TaskScores } from '@cvm/metrics';
import {
  type CvmAblation,
  createEvaluator,
  type MultiTaskModel,
  predictTasks,
  type TaskName,
} from '@cvm/mtl-heads';
import * as tf from '@tensorflow/tfjs-core';

export interface FrameResult {
  /** Each task's prediction (`predictTasks`: class ids, metres, unit normals, probabilities). */
  predictions: Partial<Record<TaskName, Float32Array | Int32Array>>;
  /** The raw outputs (logits / values) of the tasks asked for in `rawOutputs`. */
  raw: Partial<Record<TaskName, Float32Array>>;
  /** The reference view's cost volume `[h, w, L]` (far → near), null without one. */
  costVolume: { data: Float32Array; height: number; width: number; candidates: number } | null;
  /** Per-frame scores (`@cvm/metrics`: mIoU %, RMSE m, mErr °, odsF %) when the sample has labels. */
  scores: TaskScores | null;
  /** Wall time of the forward, the predictions and their read-back, in ms. */
  forwardMs: number;
}

export interface FrameOptions {
  cvmAblation?: CvmAblation | null;
  rawOutputs?: readonly TaskName[];
}

/** Labels as `@cvm/metrics` reads them: `[1,H,W]` int32 / float32, normals `[1,H,W,3]`. */
function metricLabels(labels: TaskLabels, tasks: readonly TaskName[], height: number, width: number) {
  const out: Partial<Record<TaskName, { data: Float32Array | Int32Array; shape: number[] }>> = {};
  for (const t of tasks) {
    const a = labels[t];
    if (!a) return null;
    const data = a instanceof Float32Array ? a : Int32Array.from(a);
    out[t] = { data, shape: t === 'normals' ? [1, height, width, 3] : [1, height, width] };
  }
  return out;
}

/** Runs `model` on `sample` (views `[H,W,3]` RGB in [0,1], view 0 the reference). Leaks no tensor. */
export async function runFrame(
  model: MultiTaskModel,
  sample: MultiViewSample,
  options: FrameOptions = {},
): Promise<FrameResult> {
  const { height: H, width: W } = sample;
  const images = sample.views.map((v) => tf.tensor4d(v.rgb, [1, H, W, 3]));
  const cameras =
    sample.views.length > 1
      ? {
          intrinsics: sample.views.map((v) => v.intrinsics),
          cameraToWorld: sample.views.map((v) => v.cameraToWorld),
        }
      : null;
  const start = performance.now();
  const { outputs, costVolume } = model.forwardWithIntermediates(images, cameras, {
    cvmAblation: options.cvmAblation ?? null,
  });
  const preds = predictTasks(model.tasks, outputs);
  try {
    const predictions: FrameResult['predictions'] = {};
    for (const [t, p] of Object.entries(preds) as [TaskName, tf.Tensor][])
      predictions[t] = (await p.data()) as Float32Array | Int32Array;
    const forwardMs = performance.now() - start;
    const raw: FrameResult['raw'] = {};
    for (const t of options.rawOutputs ?? []) {
      const o = outputs[t];
      if (o) raw[t] = (await o.data()) as Float32Array;
    }
    let cv: FrameResult['costVolume'] = null;
    if (costVolume) {
      const [, h, w, L] = costVolume.shape;
      cv = { data: (await costVolume.data()) as Float32Array, height: h, width: w, candidates: L };
    }
    let scores: TaskScores | null = null;
    const tasks = model.tasks.map((t) => t.name);
    const labels = sample.views[0].labels && metricLabels(sample.views[0].labels, tasks, H, W);
    if (labels) {
      const evaluator = createEvaluator(model.tasks);
      await evaluator.update(preds, labels);
      scores = evaluator.result().scores;
    }
    return { predictions, raw, costVolume: cv, scores, forwardMs };
  } finally {
    tf.dispose([
      ...images,
      ...(Object.values(outputs) as tf.Tensor[]),
      ...(Object.values(preds) as tf.Tensor[]),
    ]);
    costVolume?.dispose();
  }
}
