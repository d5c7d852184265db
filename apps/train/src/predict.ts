import { mkdirSync, readFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { decodeJpeg, decodePng, decodeRgb, type MultiViewSample, resizeSample } from '@cvm/datasets/node';
import { type MultiTaskModel, predictTasks, type TaskName } from '@cvm/mtl-heads';
import { writeFileAtomic } from '@cvm/nn/node';
import * as tf from '@tensorflow/tfjs-core';
import type { TrainConfig } from './config.js';
import type { PredictionSample } from './evaluate.js';
import { taskNames } from './model.js';
import { predictionPanel } from './predictions.js';

/** An image file (PNG or JPEG) as `[H,W,3]` 8-bit RGB. */
function readImage(path: string): { width: number; height: number; rgb: Uint8Array } {
  const bytes = readFileSync(path);
  const ext = extname(path).toLowerCase();
  if (ext === '.jpg' || ext === '.jpeg') {
    const j = decodeJpeg(bytes, path);
    return { width: j.width, height: j.height, rgb: j.data };
  }
  if (ext !== '.png') throw new Error(`predict: '${path}' is not a .png, .jpg or .jpeg image`);
  const p = decodePng(bytes, path, { palette: 'rgb' });
  const rgb = new Uint8Array(p.width * p.height * 3);
  for (let i = 0; i < p.width * p.height; i++)
    for (let c = 0; c < 3; c++) rgb[3 * i + c] = p.data[i * p.channels + (p.channels >= 3 ? c : 0)];
  return { width: p.width, height: p.height, rgb };
}

/**
 * Single-view prediction: each image resized to the run's training size, run through the model (the
 * CvM sees the paper's single-view setting), and written as `<out>/<name>.png`: the image, then each
 * task's prediction. Returns the files written.
 */
export async function predictImages(
  model: MultiTaskModel,
  config: TrainConfig,
  images: readonly string[],
  out: string,
): Promise<string[]> {
  if (images.length === 0)
    throw new Error('predict: name at least one image (predict <checkpoint> <image...>)');
  mkdirSync(out, { recursive: true });
  const [H, W] = config.size;
  const tasks = taskNames(config);
  const written: string[] = [];
  model.eval();
  for (const path of images) {
    const img = readImage(path);
    const sample: MultiViewSample = {
      id: basename(path, extname(path)),
      height: img.height,
      width: img.width,
      views: [
        {
          rgb: decodeRgb(img.rgb),
          intrinsics: Float64Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1),
          cameraToWorld: Float64Array.of(1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1),
        },
      ],
    };
    const resized = resizeSample(sample, H, W);
    const input = tf.tensor4d(resized.views[0].rgb, [1, H, W, 3]);
    const outputs = model.forward([input]);
    const preds = predictTasks(model.tasks, outputs);
    try {
      const pred: PredictionSample['pred'] = {};
      for (const [t, p] of Object.entries(preds) as [TaskName, tf.Tensor][])
        pred[t] = (await p.data()) as Float32Array | Int32Array;
      const file = join(out, `${sample.id}.png`);
      await writeFileAtomic(
        file,
        predictionPanel(
          { id: sample.id, height: H, width: W, rgb: resized.views[0].rgb, pred, gt: {} },
          tasks,
        ),
      );
      written.push(file);
    } finally {
      tf.dispose([
        input,
        ...(Object.values(outputs) as tf.Tensor[]),
        ...(Object.values(preds) as tf.Tensor[]),
      ]);
    }
  }
  return written;
}
