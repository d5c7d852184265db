import '@tensorflow/tfjs-backend-cpu';
import type { Batch } from '@cvm/datasets';
import { DataLoader } from '@cvm/datasets/node';
import { batchToTensors, disposeBatchTensors } from '@cvm/datasets/tfjs';
import { normalizeImage } from '@cvm/nn';
import { expectNoLeaks } from '@cvm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrossViewModule, type MultiViewBatch } from '../src/index.js';
import { maxAbsDiff, TINY_CONFIG } from './helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const loaders: DataLoader[] = [];
afterAll(async () => {
  await Promise.all(loaders.map((l) => l.close()));
});

/** The first training batch of a synthetic world with `views` views, 64×96, batch 2. */
async function firstBatch(views: number): Promise<Batch> {
  const loader = new DataLoader({
    source: {
      kind: 'synthetic',
      world: { seed: 4, height: 64, width: 96, views, trainScenes: 2 },
      split: 'train',
    },
    pipeline: { train: true, size: [64, 96] },
    batchSize: 2,
  });
  loaders.push(loader);
  for await (const batch of loader.epoch(0)) return batch;
  throw new Error('no batch');
}

describe('@cvm/datasets batches into CrossViewModule', () => {
  it('a loader batch goes through forwardBatch as it is, and equals per-sample forward calls', async () => {
    const batch = await firstBatch(3);
    const m = new CrossViewModule(TINY_CONFIG);
    const t = batchToTensors(batch);
    const input: MultiViewBatch = t; // the structural contract, checked by the type checker
    const outs = await expectNoLeaks(() => m.forwardBatch(input));
    expect(outs.map((o) => o.shape)).toEqual(Array(3).fill([2, 32, 48, 12]));
    // By hand from the batch arrays: sample b, view v is images[b,v] with intrinsics[b,v], pose[b,v].
    const { views: V, height: H, width: W } = batch;
    for (const b of [0, 1]) {
      const at = (a: Float32Array, per: number, v: number) =>
        a.slice((b * V + v) * per, (b * V + v + 1) * per);
      const images = [0, 1, 2].map((v) => tf.tensor4d(at(batch.images, H * W * 3, v), [1, H, W, 3]));
      const cameras = {
        intrinsics: [0, 1, 2].map((v) => at(batch.intrinsics, 9, v)),
        cameraToWorld: [0, 1, 2].map((v) => at(batch.cameraToWorld, 16, v)),
      };
      const single = m.forward(images, cameras);
      for (let v = 0; v < 3; v++) {
        const fromBatch = tf.slice(outs[v], [b, 0, 0, 0], [1, -1, -1, -1]);
        const scale = (await tf.max(tf.abs(single[v])).data())[0];
        expect(await maxAbsDiff(fromBatch, single[v])).toBeLessThan(1e-5 * Math.max(1, scale));
        fromBatch.dispose();
      }
      tf.dispose([...images, ...single]);
    }
    tf.dispose(outs);
    disposeBatchTensors(t);
    m.dispose();
  });

  it('one view per sample is the single-view setting', async () => {
    const batch = await firstBatch(1);
    const m = new CrossViewModule(TINY_CONFIG);
    const t = batchToTensors(batch);
    const [out] = m.forwardBatch(t);
    const image = tf.reshape(t.images, [2, 64, 96, 3]);
    const [direct] = m.forward([image]);
    expect(out.shape).toEqual([2, 32, 48, 12]);
    expect(await maxAbsDiff(out, direct)).toBe(0);
    tf.dispose([out, image, direct]);
    disposeBatchTensors(t);
    m.dispose();
  });

  it('images outside [0,1] (normalised twice, or 0..255) are rejected, naming the view', async () => {
    const batch = await firstBatch(2);
    const m = new CrossViewModule(TINY_CONFIG);
    const t = batchToTensors(batch);
    const normalised = { ...t, images: normalizeImage(t.images) };
    const bytes = { ...t, images: tf.mul(t.images, 255) };
    expect(() => m.forwardBatch(normalised)).toThrow(
      /images\[0\]: expected float32 RGB in \[0,1\], got values in .* \(already normalised\?/,
    );
    expect(() => m.forwardBatch(bytes)).toThrow(/images\[0\]: .*\(0\.\.255 values\? divide by 255\)/);
    const unchecked = new CrossViewModule({ ...TINY_CONFIG, checkInputRange: false });
    tf.dispose(unchecked.forwardBatch(bytes));
    tf.dispose([normalised.images, bytes.images]);
    disposeBatchTensors(t);
    m.dispose();
    unchecked.dispose();
  });

  it('the adapter names malformed batches', () => {
    const m = new CrossViewModule(TINY_CONFIG);
    const images = tf.zeros([2, 2, 64, 96, 3]);
    const K = new Float32Array(2 * 2 * 9);
    const P = new Float32Array(2 * 2 * 16);
    const perView = tf.zeros([2, 64, 96, 3]);
    expect(() => m.forwardBatch({ images: perView, intrinsics: K, cameraToWorld: P })).toThrow(
      /batch.images: expected a \[B,V,H,W,3\] tensor, got \[2,64,96,3\]/,
    );
    expect(() => m.forwardBatch({ images, intrinsics: K.subarray(9), cameraToWorld: P })).toThrow(
      /batch.intrinsics: a flat array must hold B·V·9 = 36 numbers, got 27/,
    );
    const wrong = tf.zeros([2, 3, 4, 4]);
    expect(() => m.forwardBatch({ images, intrinsics: K, cameraToWorld: wrong })).toThrow(
      /batch.cameraToWorld: expected shape \[2,2,4,4\] \(B,V from batch.images\), got \[2,3,4,4\]/,
    );
    expect(() => m.forwardBatch({ images, intrinsics: K, cameraToWorld: P })).toThrow(
      /cameras.intrinsics\[0\]: not a pinhole intrinsics matrix/,
    );
    tf.dispose([images, perView, wrong]);
    m.dispose();
  });
});
