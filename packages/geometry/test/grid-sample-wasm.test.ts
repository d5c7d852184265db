import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { registerWasmBackend } from '@cvm/backend';
import { seededUniform } from '@cvm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GridSampleOptions, gridSample } from '../src/index.js';

beforeAll(async () => {
  tf.env().set('IS_TEST', true);
  await registerWasmBackend({ threads: 1 });
});

afterAll(() => {
  tf.removeBackend('wasm');
});

/** Output and gradients w.r.t. input and grid, as arrays, on `backend` (no tensors left behind). */
async function sampleAndGrads(backend: string, options: GridSampleOptions): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const x = seededUniform([2, 5, 7, 3], 1);
  // Coordinates past ±1 exercise the padding modes.
  const grid = seededUniform([2, 4, 6, 2], 2, -1.3, 1.3);
  const f = (a: tf.Tensor, g: tf.Tensor) => gridSample(a as tf.Tensor4D, g as tf.Tensor4D, options);
  const out = f(x, grid);
  const weights = seededUniform(out.shape, 3);
  const grads = tf.grads((a: tf.Tensor, g: tf.Tensor) => tf.sum(tf.mul(f(a, g), weights)))([x, grid]);
  const values = await Promise.all([out, ...grads].map(async (t) => (await t.data()) as Float32Array));
  tf.dispose([x, grid, out, weights, ...grads]);
  expect(tf.memory().numTensors).toBe(before);
  return values;
}

describe('gridSample on wasm', () => {
  const cases: GridSampleOptions[] = [
    { mode: 'bilinear', paddingMode: 'zeros' },
    { mode: 'bilinear', paddingMode: 'border', alignCorners: true },
    { mode: 'bilinear', paddingMode: 'reflection' },
    { mode: 'nearest', paddingMode: 'zeros' },
  ];
  for (const options of cases) {
    it(`runs the cpu kernel on the wasm heap, bit for bit: ${JSON.stringify(options)}`, async () => {
      const cpu = await sampleAndGrads('cpu', { ...options, implementation: 'kernel' });
      const wasm = await sampleAndGrads('wasm', { ...options, implementation: 'kernel' });
      for (let i = 0; i < cpu.length; i++) expect(Array.from(wasm[i]!)).toEqual(Array.from(cpu[i]!));
    });
  }
});
