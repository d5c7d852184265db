import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend, useWebGPUForTests } from '../src/index.js';

let gpu = false;
beforeAll(async () => {
  gpu = await useWebGPUForTests();
});
afterAll(async () => {
  await selectBackend(['cpu']);
});

/** What the engine's backend holds: data buffers, so partial sums that are not freed show up. */
const liveData = () => (tf.backend() as unknown as { numDataIds(): number }).numDataIds();

describe('webgpu AddN within the storage-buffer limit', () => {
  it('sums more inputs than one shader may bind, and frees its partial sums', async (ctx) => {
    if (!gpu) return ctx.skip();
    const limit = (tf.backend() as unknown as { device: GPUDevice }).device.limits
      .maxStorageBuffersPerShaderStage;
    for (const n of [2, limit - 1, limit, 3 * limit + 2, 153]) {
      const values = Array.from({ length: n }, (_, i) => i + 1);
      // Larger than tfjs-webgpu's cpu hand-off size, so the sum really runs as a shader.
      const terms = values.map((v, i) => tf.fill([32, 64], v * (1 + 0.5 * (i % 3))));
      const expected = values.reduce((s, v, i) => s + v * (1 + 0.5 * (i % 3)), 0);
      const tensorsBefore = tf.memory().numTensors;
      const buffersBefore = liveData();
      const sum = tf.addN(terms);
      const data = await sum.data();
      expect(Array.from(data)).toEqual(new Array(32 * 64).fill(expected));
      sum.dispose();
      expect(tf.memory().numTensors).toBe(tensorsBefore);
      expect(liveData()).toBe(buffersBefore);
      tf.dispose(terms);
    }
  });

  it('sums 153 squared norms, as a global gradient norm over 153 parameters does', async (ctx) => {
    if (!gpu) return ctx.skip();
    const grads = Array.from({ length: 153 }, (_, i) => tf.fill([32, 64], (i % 7) + 1));
    const squares = grads.map((g) => tf.sum(tf.square(g))); // scalars computed on the GPU
    const total = tf.addN(squares);
    const expected = grads.reduce((s, _, i) => s + 32 * 64 * ((i % 7) + 1) ** 2, 0);
    expect((await total.data())[0]).toBe(expected);
    tf.dispose([...grads, ...squares, total]);
  });
});
