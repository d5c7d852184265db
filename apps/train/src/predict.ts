import { mkdirSync, readFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import {
  type ColmapViewCamera,
  collate,
  colmapViewCamera,
  decodeJpeg,
  decodePng,
  decodeRgb,
  type MultiViewSample,
  readColmapModel,
  resizeSample,
  type SampleView,
} from '@cvm/datasets/node';
import { batchToTensors, disposeBatchTensors } from '@cvm/datasets/tfjs';
import { type MultiTaskModel, predictTasks, type TaskName } from '@cvm/mtl-heads';
import { writeFileAtomic } from '@cvm/nn/node';
import * as tf from '@tensorflow/tfjs-core';
import type { TrainConfig } from './config.js';
import { forwardBatch, type PredictionSample } from './evaluate.js';
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

/** Options of `predictImages`. */
export interface PredictOptions {
  /**
   * A COLMAP model folder (`cameras.txt` + `images.txt`, or the `.bin` pair) naming every image by its
   * file name: the images are then ONE multi-view sample, the first the reference. Without it, each
   * image is predicted on its own in the single-view mode (identity cameras, as the paper does).
   */
  cameras?: string;
}

/** One image file as a view (identity cameras without `camera`), with the image's size. */
function sampleView(
  path: string,
  camera?: ColmapViewCamera,
): { view: SampleView; height: number; width: number } {
  const img = readImage(path);
  if (camera && (camera.width !== img.width || camera.height !== img.height))
    throw new Error(
      `predict: the COLMAP camera of '${camera.name}' is ${camera.width}×${camera.height} but the image is ${img.width}×${img.height}`,
    );
  const view: SampleView = {
    rgb: decodeRgb(img.rgb),
    intrinsics: camera ? camera.intrinsics : Float64Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1),
    cameraToWorld: camera
      ? camera.cameraToWorld
      : Float64Array.of(1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1),
    name: basename(path),
  };
  return { view, height: img.height, width: img.width };
}

/**
 * Predictions for image files, each written as `<out>/<name>.png`: the (reference) image, then each
 * task's prediction. Images are resized to the run's training size (intrinsics scaled with them).
 * Single-view by default; with `cameras`, all images form one multi-view sample. Returns the files written.
 */
export async function predictImages(
  model: MultiTaskModel,
  config: TrainConfig,
  images: readonly string[],
  out: string,
  options: PredictOptions = {},
): Promise<string[]> {
  if (images.length === 0)
    throw new Error('predict: name at least one image (predict <checkpoint> <image...>)');
  let samples: MultiViewSample[];
  if (options.cameras) {
    if (images.length < 2)
      throw new Error('predict --cameras: give the reference image and at least one neighbour');
    const { model: colmap, imagesFile } = readColmapModel(options.cameras);
    const read = images.map((path) => sampleView(path, colmapViewCamera(colmap, basename(path), imagesFile)));
    if (read.some((r) => r.view.rgb.length !== read[0].view.rgb.length))
      throw new Error('predict --cameras: every image of a multi-view sample must have the same size');
    const { height, width } = read[0];
    samples = [
      { id: basename(images[0], extname(images[0])), height, width, views: read.map((r) => r.view) },
    ];
  } else {
    samples = images.map((path) => {
      const { view, height, width } = sampleView(path);
      return { id: basename(path, extname(path)), height, width, views: [view] };
    });
  }
  mkdirSync(out, { recursive: true });
  const [H, W] = config.size;
  const tasks = taskNames(config);
  const written: string[] = [];
  model.eval();
  for (const sample of samples) {
    const resized = resizeSample(sample, H, W);
    const batch = batchToTensors(collate([resized]));
    let outputs: ReturnType<MultiTaskModel['forward']> = {};
    let preds: ReturnType<typeof predictTasks> = {};
    try {
      outputs = forwardBatch(model, batch);
      preds = predictTasks(model.tasks, outputs);
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
      disposeBatchTensors(batch);
      tf.dispose([...(Object.values(outputs) as tf.Tensor[]), ...(Object.values(preds) as tf.Tensor[])]);
    }
  }
  return written;
}
