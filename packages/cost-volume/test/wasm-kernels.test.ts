import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { registerWasmBackend } from '@cvm/backend';
import { seededUniform } from '@cvm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COST_VOLUME, COST_VOLUME_GRAD, costVolume } from '../src/index.js';
import { disposeOptions, scenarioFeatures, scenarios } from './scenarios.js';

beforeAll(async () => {
  tf.env().set('IS_TEST', true);
  await registerWasmBackend({ threads: 1 });
});

afterAll(() => {
  tf.removeBackend('wasm');
});

/** Volume and gradients w.r.t. every feature map, as arrays, on `backend` (no tensors left behind). */
async function volumeAndGrads(
  backend: string,
  s: ReturnType<typeof scenarios>[number],
): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const { reference, neighbours } = scenarioFeatures(s, 5);
  const options = { ...s.options(), implementation: 'fused' as const };
  const inputs = [reference, ...neighbours];
  const volume = (...xs: tf.Tensor[]) =>
    costVolume(xs[0] as tf.Tensor4D, xs.slice(1) as tf.Tensor4D[], options);
  const out = volume(...inputs);
  const weights = seededUniform(out.shape, 7);
  const grads = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(volume(...xs), weights)))(inputs);
  const values = await Promise.all([out, ...grads].map(async (t) => (await t.data()) as Float32Array));
  tf.dispose([out, weights, ...grads, ...inputs]);
  disposeOptions(options);
  expect(tf.memory().numTensors).toBe(before);
  return values;
}

describe('costVolume on wasm', () => {
  it('has the fused kernels', () => {
    expect(tf.getKernel(COST_VOLUME, 'wasm')).toBeDefined();
    expect(tf.getKernel(COST_VOLUME_GRAD, 'wasm')).toBeDefined();
  });

  for (const s of scenarios(7, 9, 6, 5)) {
    it(`matches the cpu kernel bit for bit (volume and feature gradients): ${s.name}`, async () => {
      const cpu = await volumeAndGrads('cpu', s);
      const wasm = await volumeAndGrads('wasm', s);
      expect(wasm.length).toBe(cpu.length);
      for (let i = 0; i < cpu.length; i++) expect(Array.from(wasm[i]!)).toEqual(Array.from(cpu[i]!));
    });
  }
});
