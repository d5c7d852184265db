import * as tf from '@tensorflow/tfjs-core';
import type { Batch } from './pipeline/batch.js';

/**
 * tfjs tensors of a batch (`@cvm/datasets/tfjs`; `@tensorflow/tfjs-core` is an optional peer
 * dependency, needed only for this entry). The caller owns the tensors (dispose them, or create them
 * inside `tf.tidy`).
 *
 * `images`, `intrinsics` and `cameraToWorld` are the model-input contract of `@cvm/cvm-module`'s
 * `MultiViewBatch` (structural: this package imports no model), so `cvm.forwardBatch(tensors)` takes
 * it as it is.
 */
export interface BatchTensors {
  /** `[B,V,H,W,3]` float32 RGB in `[0,1]`, view 0 the reference (not normalised: models do that). */
  images: tf.Tensor5D;
  /** `[B,V,3,3]` float32 intrinsics in pixels of `images`. */
  intrinsics: tf.Tensor4D;
  /** `[B,V,4,4]` float32 OpenCV camera-to-world poses. */
  cameraToWorld: tf.Tensor4D;
  /** Reference-view labels: `[B,H,W]` (int32 for index tasks, float32 depth) or `[B,H,W,3]` normals. */
  labels: Partial<Record<'semseg' | 'depth' | 'normals' | 'edge' | 'human_parts' | 'sal', tf.Tensor>>;
}

/**
 * Wraps a batch's typed arrays as NHWC tensors (one copy into the backend).
 *
 * @example
 * for await (const batch of loader.epoch(0)) {
 *   const t = batchToTensors(batch); // t.images: [B,V,H,W,3] in [0,1], t.labels.semseg: [B,H,W] int32
 *   const features = cvm.forwardBatch(t); // @cvm/cvm-module: one [B,H/2,W/2,C] per view
 *   // ... train step ...
 *   disposeBatchTensors(t);
 * }
 */
export function batchToTensors(batch: Batch): BatchTensors {
  const { size: B, views: V, height: H, width: W } = batch;
  const labels: BatchTensors['labels'] = {};
  for (const [task, a] of Object.entries(batch.labels)) {
    if (!a) continue;
    const shape = task === 'normals' ? [B, H, W, 3] : [B, H, W];
    labels[task as keyof BatchTensors['labels']] = tf.tensor(
      a,
      shape,
      a instanceof Int32Array ? 'int32' : 'float32',
    );
  }
  return {
    images: tf.tensor5d(batch.images, [B, V, H, W, 3]),
    intrinsics: tf.tensor4d(batch.intrinsics, [B, V, 3, 3]),
    cameraToWorld: tf.tensor4d(batch.cameraToWorld, [B, V, 4, 4]),
    labels,
  };
}

/** Disposes every tensor of `batchToTensors`' result. */
export function disposeBatchTensors(t: BatchTensors): void {
  tf.dispose([
    t.images,
    t.intrinsics,
    t.cameraToWorld,
    ...Object.values(t.labels).filter((x) => x !== undefined),
  ]);
}
