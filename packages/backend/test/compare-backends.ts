import * as tf from '@tensorflow/tfjs-core';
import { expectClose, seededUniform } from '@cvm/test-utils';
import { expect } from 'vitest';

/** Buffers on the wasm heap, when the wasm backend exists (cpu-xnnpack's operands live there too). */
function heapBuffers(): number | undefined {
  return tf.engine().registry.wasm?.numDataIds();
}

/**
 * Runs `f` on a backend and returns its outputs as plain arrays; asserts that it leaves no tensor
 * behind, and no buffer on the wasm heap either.
 */
export async function on(backend: string, f: () => tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const heapBefore = heapBuffers();
  const outs = f();
  const values = await Promise.all(outs.map(async (t) => (await t.data()) as Float32Array));
  tf.dispose(outs);
  expect(tf.memory().numTensors).toBe(before);
  expect(heapBuffers()).toBe(heapBefore);
  return values;
}

/** Value and gradients of sum(op(x, w) · r), from seeded inputs, with x and w as the arguments. */
export function valueAndGrads(
  op: (x: tf.Tensor, w: tf.Tensor) => tf.Tensor,
  xShape: number[],
  wShape: number[],
  seed: number,
  withGrads = true,
): () => tf.Tensor[] {
  return () =>
    tf.tidy(() => {
      const x = seededUniform(xShape, seed);
      const w = seededUniform(wShape, seed + 1);
      const y = op(x, w);
      if (!withGrads) return [y];
      const r = seededUniform(y.shape, seed + 2);
      const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(op(a, b), r)));
      return [y, ...g([x, w])];
    });
}

/** `f`'s outputs on `backend` equal the cpu backend's within `atol` of each output's scale. */
export async function expectSameAsCpu(backend: string, f: () => tf.Tensor[], atol = 2e-5): Promise<void> {
  const cpu = await on('cpu', f);
  const other = await on(backend, f);
  expect(other.length).toBe(cpu.length);
  for (let i = 0; i < cpu.length; i++) {
    const scale = Math.max(1, ...Array.from(cpu[i]!, Math.abs));
    expectClose(other[i]!, cpu[i]!, { atol: atol * scale });
  }
}
