import { AdamW, interpolateBilinear, polynomialLR } from '@cvm/nn';
import * as tf from '@tensorflow/tfjs-core';
import { multiTaskLoss, type TaskDefinition, type TaskName } from '../src/index.js';

/** What `bilinearFloor` found: the weighted total and each task's weighted loss. */
export interface FloorEstimate {
  total: number;
  losses: Partial<Record<TaskName, number>>;
}

/**
 * The lowest weighted multi-task loss a head that predicts at `size` and upsamples bilinearly to the
 * labels' `[H, W]` can reach on `labels`, whatever its weights: each task's `size` map of logits is
 * optimised directly (AdamW without decay, polynomial schedule), starting from the labels averaged
 * over each cell. Every output of `DecodeHead` is such an upsampled map, so the model's loss on these
 * labels cannot go below the true floor; this estimate is at or above it (a finite optimisation).
 * semseg, depth and edge are convex in the logits; normals (L1 of the normalised vector) are not.
 * @param labels per task, `[1,H,W]` / `[1,H,W,3]` as the batch holds them (no 255)
 */
export async function bilinearFloor(
  tasks: readonly TaskDefinition[],
  labels: Partial<Record<TaskName, tf.Tensor>>,
  size: readonly [number, number],
  steps = 1500,
  lr = 0.1,
): Promise<FloorEstimate> {
  const first = labels[tasks[0].name] as tf.Tensor;
  const [height, width] = [first.shape[1] as number, first.shape[2] as number];
  const named = tasks.map((t): [string, tf.Variable] => [
    t.name,
    tf.tidy(() => tf.variable(initialMap(t, labels[t.name] as tf.Tensor, size), true, `floor_${t.name}`)),
  ]);
  const opt = new AdamW(named, { lr, weightDecay: 0 });
  const lossOf = (): ReturnType<typeof multiTaskLoss> => {
    const outputs = Object.fromEntries(named.map(([n, v]) => [n, interpolateBilinear(v, [height, width])]));
    return multiTaskLoss(tasks, outputs, labels);
  };
  for (let i = 0; i < steps; i++) {
    opt.lr = polynomialLR(lr, i, steps);
    const { value, grads } = tf.variableGrads(() => lossOf().total);
    opt.step(opt.gradsByName(grads));
    tf.dispose([value, ...Object.values(grads)]);
  }
  const result = tf.tidy((): Record<string, tf.Tensor> => {
    const { total, weighted } = lossOf();
    return { ...(weighted as Record<string, tf.Tensor>), total };
  });
  const total = (await result.total.data())[0];
  const losses: FloorEstimate['losses'] = {};
  for (const t of tasks) losses[t.name] = (await result[t.name].data())[0];
  tf.dispose(Object.values(result));
  opt.dispose();
  tf.dispose(named.map(([, v]) => v));
  return { total, losses };
}

/** A task's labels averaged over each cell of `size`, as logits / values: a start close to the optimum. */
function initialMap(task: TaskDefinition, label: tf.Tensor, size: readonly [number, number]): tf.Tensor4D {
  const pool = (x: tf.Tensor4D): tf.Tensor4D => {
    const cell = poolSize(x, size);
    const pooled = tf.avgPool(x, cell, cell, 'valid');
    return pooled.shape[1] === size[0] && pooled.shape[2] === size[1]
      ? pooled
      : tf.image.resizeBilinear(pooled, [size[0], size[1]], false, true);
  };
  switch (task.name) {
    case 'semseg':
    case 'human_parts':
      return tf.log(
        tf.add(
          pool(tf.cast(tf.oneHot(tf.cast(label, 'int32'), task.channels), 'float32') as tf.Tensor4D),
          1e-3,
        ),
      ) as tf.Tensor4D;
    case 'normals':
      return pool(label as tf.Tensor4D);
    case 'edge':
    case 'sal': {
      const p = tf.clipByValue(pool(tf.expandDims(tf.cast(label, 'float32'), -1) as tf.Tensor4D), 0.02, 0.98);
      const logit = tf.log(tf.div(p, tf.sub(1, p)));
      return (task.channels === 2 ? tf.concat([tf.zerosLike(logit), logit], 3) : logit) as tf.Tensor4D;
    }
    default:
      return pool(tf.expandDims(tf.cast(label, 'float32'), -1) as tf.Tensor4D);
  }
}

function poolSize(x: tf.Tensor4D, size: readonly [number, number]): [number, number] {
  return [Math.max(1, Math.floor(x.shape[1] / size[0])), Math.max(1, Math.floor(x.shape[2] / size[1]))];
}
