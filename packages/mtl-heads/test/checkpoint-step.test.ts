import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { selectBackend } from '@cvm/backend';
import { createEncoder } from '@cvm/encoders';
import { checkpointedGradients, loadStateDict, manualSeed, type Segment } from '@cvm/nn';
import { expectClose, expectNoLeaks, seededUniform } from '@cvm/test-utils';
import { handheldTwoViewRig } from '@cvm/test-utils/bench';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { datasetTasks, MultiTaskModel, type TaskName, Trainer } from '../src/index.js';
import { FIXTURE_CVM, TinyEncoder } from './helpers.js';

beforeAll(async () => {
  await selectBackend(['cpu']);
});

const TASKS: TaskName[] = ['semseg', 'depth', 'normals', 'edge'];
const H = 32;
const W = 48;

describe('Trainer with checkpointActivations', () => {
  it('makes the same step as without: losses, gradient norm, parameters and BatchNorm statistics', async () => {
    const tasks = datasetTasks('nyud', TASKS);
    const make = () =>
      new MultiTaskModel(new TinyEncoder(16, 16), { tasks, cvm: 'full', cvmConfig: FIXTURE_CVM });
    const plain = make();
    const checkpointed = make();
    loadStateDict(checkpointed, plain.stateDict(), { layout: 'tfjs' });
    const rig = handheldTwoViewRig(H, W);
    const batch = {
      images: [1, 2].map((s) => seededUniform([1, H, W, 3], s, 0, 1)),
      cameras: { intrinsics: [rig.intrinsics, rig.intrinsics], cameraToWorld: rig.cameraToWorld },
      labels: {
        semseg: tf.randomUniform([1, H, W], 0, 40, 'int32', 5),
        depth: tf.randomUniform([1, H, W], 0.5, 5, 'float32', 6),
        normals: tf.randomUniform([1, H, W, 3], -1, 1, 'float32', 7),
        edge: tf.randomUniform([1, H, W], 0, 2, 'int32', 8),
      },
    };
    const a = new Trainer(plain, { lr: 1e-3 });
    const b = new Trainer(checkpointed, { lr: 1e-3, checkpointActivations: true });
    for (let step = 0; step < 2; step++) {
      const ra = await a.step(batch);
      const before = tf.memory().numTensors;
      const rb = await b.step(batch);
      if (step > 0) expect(tf.memory().numTensors, 'tensors leaked by a checkpointed step').toBe(before);
      expectClose([rb.total, rb.gradNorm], [ra.total, ra.gradNorm], { rtol: 1e-4 });
      for (const t of TASKS) expectClose([rb.losses[t]!], [ra.losses[t]!], { rtol: 1e-4 });
    }
    const other = checkpointed.stateDict();
    const entries = Object.entries(plain.stateDict());
    expect(entries.some(([n]) => n.endsWith('running_mean'))).toBe(true);
    // Biases followed by a normalisation that removes them (a conv bias before the encoder's
    // InstanceNorm or before a head's training-mode BatchNorm) have a gradient of 0 in exact arithmetic:
    // float noise that Adam turns into ±lr steps of arbitrary sign, whichever way it is computed.
    const cancelled = /(downsample\.0|linear_fuse\.0)\.bias$/;
    let compared = 0;
    for (const [name, v] of entries) {
      if (cancelled.test(name)) continue;
      const scale = (await tf.max(tf.abs(v)).data())[0];
      expectClose(await other[name].data(), await v.data(), { atol: 1e-6 + 1e-5 * scale, rtol: 1e-4 });
      compared++;
    }
    expect(compared).toBeGreaterThan(entries.length - 8);
    tf.dispose([...batch.images, ...Object.values(batch.labels)]);
    a.dispose();
    b.dispose();
    plain.dispose();
    checkpointed.dispose();
  });
});

describe('MultiTaskModel.forwardSegments with a ViT encoder', () => {
  // A small DINOv3-layout ViT (@cvm/encoders): its blocks are segments of their own.
  for (const cvm of ['full', 'none'] as const) {
    it(`cvm '${cvm}': the encoder is cut per block, and the gradients of every parameter equal those of forward`, async () => {
      manualSeed(3);
      const encoder = createEncoder('dinov3_vits16', {
        embedDim: 32,
        depth: 3,
        numHeads: 2,
        numRegisters: 1,
        outLayers: [0, 1, 1, 2],
      });
      const tasks = datasetTasks('nyud', ['semseg', 'depth']);
      const model = new MultiTaskModel(encoder, { tasks, cvm, cvmConfig: FIXTURE_CVM });
      model.train();
      const rig = handheldTwoViewRig(H, W);
      const images = [1, 2].map((s) => seededUniform([1, H, W, 3], s, 0, 1));
      const cameras = { intrinsics: [rig.intrinsics, rig.intrinsics], cameraToWorld: rig.cameraToWorld };
      const weights = [seededUniform([1, H, W, 40], 5), seededUniform([1, H, W, 1], 6)];
      const loss: Segment = (outs) => [tf.addN(outs.map((o, k) => tf.sum(tf.mul(o, weights[k]))))];
      const named = model.namedParameters();
      const vars = named.map(([, v]) => v);

      const want = tf.engine().gradients(() => {
        const out = model.forward(images, cameras);
        return loss([out.semseg!, out.depth!])[0] as tf.Scalar;
      }, vars);
      const got = await expectNoLeaks(() => {
        const { inputs, segments, tasks: order } = model.forwardSegments(images, cameras);
        expect(order).toEqual(['semseg', 'depth']);
        const cvmSegments = cvm === 'none' ? 0 : model.cvm!.forwardSegments(images, cameras).segments.length;
        // embedding + 3 blocks, the CvM's, two per head
        expect(segments).toHaveLength(1 + 3 + cvmSegments + 2 * 2);
        return checkpointedGradients([...segments, loss], inputs, vars);
      });
      expectClose(await got.value.data(), await want.value.data(), { rtol: 1e-5, atol: 1e-4 });
      const scales = await Promise.all(want.grads.map(async (g) => (await tf.max(tf.abs(g)).data())[0]));
      // Biases followed by a normalisation that removes them: 0 in exact arithmetic, float noise here.
      const floor = 1e-7 * Math.max(...scales);
      for (const [i, g] of got.grads.entries()) {
        expect(g, named[i][0]).not.toBeNull();
        const atol = Math.max(1e-5 * scales[i], floor);
        expectClose(await g!.data(), await want.grads[i].data(), { atol, rtol: 1e-4 });
      }
      tf.dispose([
        ...images,
        ...weights,
        want.value,
        ...want.grads,
        got.value,
        ...(got.grads as tf.Tensor[]),
      ]);
      model.dispose();
    });
  }
});
