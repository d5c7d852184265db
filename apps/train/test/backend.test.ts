import { registerWasmBackend } from '@cvm/backend';
import '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fitBackendToModel } from '../src/backend.js';

const GiB = 2 ** 30;

beforeAll(async () => {
  await registerWasmBackend({ threads: 1 });
});

afterAll(() => {
  tf.removeBackend('cpu-xnnpack');
  tf.removeBackend('wasm'); // ends the pthread workers so that the process can exit
});

describe('fitBackendToModel', () => {
  it('keeps wasm for a state that fits, and a backend named explicitly whatever the state', async () => {
    await tf.setBackend('wasm');
    expect(await fitBackendToModel('auto', 3.9 * GiB)).toBe('wasm');
    expect(await fitBackendToModel('wasm', 5.36 * GiB)).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it("moves auto's wasm to cpu-xnnpack when the state exceeds the 4 GiB heap; the weights follow", async () => {
    await tf.setBackend('wasm');
    const weight = tf.variable(tf.tensor1d([1, 2, 3]));
    const lines: string[] = [];
    const log = console.log;
    console.log = (line: string) => lines.push(line);
    try {
      expect(await fitBackendToModel('auto', 5.36 * GiB)).toBe('cpu-xnnpack');
    } finally {
      console.log = log;
    }
    expect(tf.getBackend()).toBe('cpu-xnnpack');
    expect(lines.join('\n')).toMatch(
      /backend: cpu-xnnpack \(auto: the training state, 5\.36 GiB, exceeds wasm's 4 GiB heap/,
    );
    const doubled = tf.mul(weight, 2);
    expect(Array.from(await doubled.data())).toEqual([2, 4, 6]);
    tf.dispose([weight, doubled]);
  });
});
