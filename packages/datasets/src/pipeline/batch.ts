import type { MultiViewSample, TaskName } from '../schema.js';

/**
 * A batch as flat typed arrays in NHWC order, ready for `tf.tensor(data, shape)` (see
 * `@cvm/datasets/tfjs` for that step). Index labels (semseg, human_parts, edge, sal) are int32 since tfjs
 * has no uint8 tensors.
 */
export interface Batch {
  ids: string[];
  /** B, V, H, W. */
  size: number;
  views: number;
  height: number;
  width: number;
  /** `[B,V,H,W,3]` RGB in [0, 1] (never normalised: each model normalises its own input). */
  images: Float32Array;
  /** `[B,V,3,3]` row-major intrinsics. */
  intrinsics: Float32Array;
  /** `[B,V,4,4]` row-major camera-to-world poses (OpenCV). */
  cameraToWorld: Float32Array;
  /** Reference-view labels: `[B,H,W]`, normals `[B,H,W,3]`. */
  labels: {
    semseg?: Int32Array;
    depth?: Float32Array;
    normals?: Float32Array;
    edge?: Int32Array;
    human_parts?: Int32Array;
    sal?: Int32Array;
  };
}

const FLOAT_TASKS = new Set<TaskName>(['depth', 'normals']);

/**
 * Stacks samples of equal size and view count into a `Batch` (reference-view labels of the tasks every
 * sample has, or of `tasks` when given: a missing one is an error naming the sample).
 *
 * @example const batch = collate([a, b]); // batch.images: Float32Array [2·V·H·W·3]
 */
export function collate(samples: readonly MultiViewSample[], tasks?: readonly TaskName[]): Batch {
  if (samples.length === 0) throw new Error('collate: no samples');
  const { height: H, width: W } = samples[0];
  const V = samples[0].views.length;
  for (const s of samples)
    if (s.height !== H || s.width !== W || s.views.length !== V)
      throw new Error(
        `collate: sample ${s.id} is ${s.views.length}×${s.height}×${s.width} (views×H×W), the batch is ${V}×${H}×${W}`,
      );
  const B = samples.length;
  const names =
    tasks ??
    (Object.keys(samples[0].views[0].labels ?? {}) as TaskName[]).filter((t) =>
      samples.every((s) => s.views[0].labels?.[t] !== undefined),
    );
  const batch: Batch = {
    ids: samples.map((s) => s.id),
    size: B,
    views: V,
    height: H,
    width: W,
    images: new Float32Array(B * V * H * W * 3),
    intrinsics: new Float32Array(B * V * 9),
    cameraToWorld: new Float32Array(B * V * 16),
    labels: {},
  };
  samples.forEach((s, b) => {
    s.views.forEach((v, k) => {
      const i = b * V + k;
      batch.images.set(v.rgb, i * H * W * 3);
      batch.intrinsics.set(v.intrinsics, i * 9);
      batch.cameraToWorld.set(v.cameraToWorld, i * 16);
    });
  });
  for (const task of names) {
    const C = task === 'normals' ? 3 : 1;
    const out = FLOAT_TASKS.has(task) ? new Float32Array(B * H * W * C) : new Int32Array(B * H * W);
    samples.forEach((s, b) => {
      const a = s.views[0].labels?.[task];
      if (!a) throw new Error(`collate: sample ${s.id} has no '${task}' label`);
      out.set(a, b * H * W * C);
    });
    (batch.labels as Record<string, Float32Array | Int32Array>)[task] = out;
  }
  return batch;
}
