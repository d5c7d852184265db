import '@tensorflow/tfjs-backend-cpu';
import type { Module } from '@cvm/nn';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkTrainingStateFits, datasetTasks, MultiTaskModel, trainingStateBytes } from '../src/index.js';
import { TinyEncoder } from './helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A stand-in with ViT-L + paper CvM's counts (359.5 M parameters), holding no tensors. */
function sized(trainable: number, frozen: number): Module {
  const p = (size: number) => ({ size }) as unknown as tf.Variable;
  return {
    namedParameters: () => [
      ['a', p(trainable)],
      ['b', p(frozen)],
    ],
    namedBuffers: () => [['c', p(1000)]],
    trainableParameters: () => [p(trainable)],
  } as unknown as Module;
}

describe('training state', () => {
  it('counts weights and buffers at 4 B, and 12 B more per trainable parameter', () => {
    const model = new MultiTaskModel(new TinyEncoder(16), { tasks: datasetTasks('nyud'), cvm: 'none' });
    const n = model.numParameters();
    const buffers = model.namedBuffers().reduce((s, [, v]) => s + v.size, 0);
    expect(buffers).toBeGreaterThan(0); // the heads' BatchNorm statistics
    expect(trainingStateBytes(model)).toEqual({
      weightBytes: 4 * (n + buffers),
      trainable: n,
      bytes: 16 * n + 4 * buffers,
    });
    model.dispose();
  });

  it('refuses on wasm a model whose state exceeds 4 GiB, naming the sizes, the limit and the way out', () => {
    const vitl = sized(359_523_165, 0);
    expect(() => checkTrainingStateFits(vitl, 'wasm')).toThrow(
      /needs 5\.36 GiB before any activation \(1\.34 GiB of weights \+ 359\.5 M trainable parameters.*4 GiB wasm32 heap.*'cpu-xnnpack'/,
    );
    // No fixed limit on cpu; on wasm, with most of it frozen: 1.34 GiB + 50 M × 12 B = 1.9 GiB.
    expect(() => checkTrainingStateFits(vitl, 'cpu')).not.toThrow();
    expect(() => checkTrainingStateFits(sized(50_000_000, 309_523_165), 'wasm')).not.toThrow();
  });
});
