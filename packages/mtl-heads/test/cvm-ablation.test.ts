import '@tensorflow/tfjs-backend-cpu';
import { manualSeed } from '@cvm/nn';
import { expectNoLeaks, seededUniform } from '@cvm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { datasetTasks, MultiTaskModel } from '../src/index.js';
import { FIXTURE_CVM, TinyEncoder } from './helpers.js';

const K = [
  [40, 0, 23.5],
  [0, 40, 15.5],
  [0, 0, 1],
];
const pose = (tx: number) => [
  [1, 0, 0, tx],
  [0, 1, 0, 0],
  [0, 0, 1, 0],
  [0, 0, 0, 1],
];

async function maxDiff(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  return (await tf.max(tf.abs(tf.sub(a, b))).data())[0];
}

describe('MultiTaskModel inference-time CvM ablations', () => {
  it("'off' feeds every head its neutral CvM value (cvm_norm's running mean, normalised to 0), independent of the other views; the ablations differ from full", async () => {
    manualSeed(3);
    const tasks = datasetTasks('nyud', ['depth', 'semseg']);
    const model = new MultiTaskModel(new TinyEncoder(16, 16), { tasks, cvm: 'full', cvmConfig: FIXTURE_CVM });
    model.eval();
    const ref = seededUniform([1, 32, 48, 3], 1, 0, 1) as tf.Tensor4D;
    const nbr = seededUniform([1, 32, 48, 3], 2, 0, 1) as tf.Tensor4D;
    const other = seededUniform([1, 32, 48, 3], 3, 0, 1) as tf.Tensor4D;
    const cams = { intrinsics: [K, K], cameraToWorld: [pose(0), pose(0.1)] };
    const full = model.forwardWithIntermediates([ref, nbr], cams);
    expect(full.costVolume?.shape).toEqual([1, 4, 6, 8]);
    // Trained-looking statistics: a non-zero running mean in every head's cvm_norm.
    const C = model.cvm?.outChannels ?? 0;
    for (const [i, t] of tasks.entries())
      model.head(t.name).cvmNorm?.runningMean?.assign(tf.linspace(-1 - i, 2 + i, C) as tf.Tensor1D);
    const off = model.forward([ref, nbr], cams, { cvmAblation: 'off' });
    const offOther = model.forward([ref, other], cams, { cvmAblation: 'off' });
    // By hand: each head on the encoder maps with a constant CvM map of its running mean, which its
    // cvm_norm normalises to 0 (the BatchNorm's output is its bias).
    const maps = model.backbone.forwardIntermediates(ref);
    for (const [i, t] of tasks.entries()) {
      const head = model.head(t.name);
      const neutral = head.neutralCvmValue();
      const mean = await (tf.linspace(-1 - i, 2 + i, C) as tf.Tensor1D).data();
      expect(Array.from(await neutral.data())).toEqual(Array.from(mean));
      const constant = tf.broadcastTo(neutral, [1, 16, 24, C]) as tf.Tensor4D;
      const normalised = head.cvmNorm?.forward(constant) as tf.Tensor;
      const bias = tf.broadcastTo(head.cvmNorm?.bias as tf.Tensor, [1, 16, 24, C]);
      expect(await maxDiff(normalised, bias)).toBeLessThan(1e-5);
      const byHand = head.forward(maps, [32, 48], constant);
      expect(await maxDiff(off[t.name] as tf.Tensor, byHand)).toBeLessThan(1e-6);
      expect(await maxDiff(off[t.name] as tf.Tensor, offOther[t.name] as tf.Tensor)).toBe(0);
      expect(await maxDiff(off[t.name] as tf.Tensor, full.outputs[t.name] as tf.Tensor)).toBeGreaterThan(
        1e-4,
      );
      tf.dispose([neutral, byHand, constant, normalised, bias]);
    }
    for (const ablation of ['noCostVolume', 'noCrossViewFeatures'] as const) {
      const out = model.forwardWithIntermediates([ref, nbr], cams, { cvmAblation: ablation });
      expect(await maxDiff(out.outputs.depth as tf.Tensor, full.outputs.depth as tf.Tensor)).toBeGreaterThan(
        1e-5,
      );
      // The cost volume returned is the computed one, whatever the ablation.
      expect(await maxDiff(out.costVolume as tf.Tensor, full.costVolume as tf.Tensor)).toBe(0);
      tf.dispose([...Object.values(out.outputs), out.costVolume as tf.Tensor]);
    }
    await expectNoLeaks(async () => {
      const r = model.forwardWithIntermediates([ref, nbr], cams, { cvmAblation: 'off' });
      expect(r.costVolume).toBeNull();
      tf.dispose(Object.values(r.outputs));
    });
    expect(() => model.forward([ref, nbr], cams, { cvmAblation: 'none' as never })).toThrow(
      /cvmAblation must be one of off, noCostVolume, noCrossViewFeatures/,
    );
    const plain = new MultiTaskModel(new TinyEncoder(16, 16), { tasks, cvm: 'none' });
    expect(() => plain.forward([ref], null, { cvmAblation: 'off' })).toThrow(/needs a model with a CvM/);
    tf.dispose([ref, nbr, other, ...maps, ...Object.values(full.outputs), full.costVolume as tf.Tensor]);
    tf.dispose([...Object.values(off), ...Object.values(offOther)]);
    model.dispose();
    plain.dispose();
  });
});
