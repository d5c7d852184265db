import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { hasWebGPUForTests, initNodeWebGPU, selectBackend } from '../src/index.js';

describe('selectBackend', () => {
  it('falls back past tfjs-node when it is not installed', async () => {
    const name = await selectBackend(['tensorflow', 'cpu']);
    expect(name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
  });

  it('explains why nothing could be activated', async () => {
    await expect(selectBackend(['tensorflow', 'webgl'])).rejects.toThrow(
      /No tfjs backend could be activated \(tensorflow: not available; webgl: not available\)/,
    );
  });
});

describe('initNodeWebGPU', () => {
  it('finds an adapter, or says why not', async () => {
    const result = await initNodeWebGPU();
    if (result.available) expect(result.adapter).toMatch(/\//);
    else expect(result.reason).toMatch(/adapter|webgpu|Vulkan/i);
    if (process.env.CI === 'true') expect(result.available).toBe(true);
    // Memoised: the same probe result on a second call.
    expect(await initNodeWebGPU()).toBe(result);
  });

  it('runs a WebGPU matmul through selectBackend', async (ctx) => {
    if (!(await hasWebGPUForTests())) return ctx.skip();
    expect(await selectBackend(['webgpu'])).toBe('webgpu');
    const a = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    const c = tf.matMul(a, a);
    expect(Array.from(await c.data())).toEqual([7, 10, 15, 22]);
    tf.dispose([a, c]);
  });
});
