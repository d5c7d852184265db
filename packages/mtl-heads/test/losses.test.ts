import '@tensorflow/tfjs-backend-cpu';
import { expectClose } from '@cvm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  balancedBinaryCrossEntropyLoss,
  balancedCrossEntropyLoss,
  crossEntropyLoss,
  datasetTasks,
  depthL1Loss,
  multiTaskLoss,
  normalsL1Loss,
  taskDefinition,
} from '../src/index.js';
import { Fixture } from './helpers.js';

let fx: Fixture;
beforeAll(async () => {
  await tf.setBackend('cpu');
  fx = new Fixture('heads.safetensors');
});

const LOSSES: Record<string, { fn: (o: tf.Tensor, l: tf.Tensor) => tf.Scalar; ids: boolean }> = {
  semseg: { fn: crossEntropyLoss, ids: true },
  sal: { fn: balancedCrossEntropyLoss, ids: true },
  edge: { fn: (o, l) => balancedBinaryCrossEntropyLoss(o, l), ids: true },
  depth: { fn: depthL1Loss, ids: false },
  normals: { fn: normalsL1Loss, ids: false },
};

describe('losses match SAK (torch.nn.functional) in value and gradient', () => {
  for (const [name, { fn, ids }] of Object.entries(LOSSES)) {
    it(name, async () => {
      const out = fx.tensor(`loss.${name}.output`);
      const label = fx.tensor(`loss.${name}.label`, ids ? 'int32' : 'float32');
      const before = tf.memory().numTensors;
      const { value, grads } = tf.valueAndGrads((o: tf.Tensor) => fn(o, label))([out]);
      expectClose(await value.data(), fx.values(`loss.${name}.value`), { rtol: 1e-5, atol: 1e-6 });
      expectClose(await grads[0].data(), fx.values(`loss.${name}.grad`), { atol: 1e-6, rtol: 1e-4 });
      tf.dispose([value, ...grads]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([out, label]);
    });
  }

  it('saliency whose valid pixels are all one class gives exactly 0', async () => {
    const out = fx.tensor('loss.sal_one_class.output');
    const label = fx.tensor('loss.sal_one_class.label', 'int32');
    const v = balancedCrossEntropyLoss(out, label);
    expect((await v.data())[0]).toBe(0);
    expect(fx.values('loss.sal_one_class.value')[0]).toBe(0);
    tf.dispose([out, label, v]);
  });

  it('ignore-only batches give 0, not NaN; raw (untransformed) invalid depth 0 / zero normals are ignored', async () => {
    const ignored = tf.fill([1, 2, 2], 255, 'int32');
    const e = balancedBinaryCrossEntropyLoss(tf.zeros([1, 2, 2, 1]), ignored);
    const c = crossEntropyLoss(tf.zeros([1, 2, 2, 3]), ignored);
    expect([(await e.data())[0], (await c.data())[0]]).toEqual([0, 0]);
    const d = depthL1Loss(tf.fill([1, 1, 2, 1], 3), tf.tensor3d([[[0, 2]]]));
    expectClose(await d.data(), [1]);
    const n = normalsL1Loss(
      tf.tensor4d([
        [
          [
            [0, 0, 2],
            [0, 0, 2],
          ],
        ],
      ]),
      tf.tensor4d([
        [
          [
            [0, 0, 0],
            [0, 0, -1],
          ],
        ],
      ]),
    );
    expectClose(await n.data(), [2]);
  });

  it('rejects mismatched shapes with the argument named', () => {
    expect(() => crossEntropyLoss(tf.zeros([1, 2, 2, 3]), tf.zeros([1, 2, 3], 'int32'))).toThrow(
      /labels must be \[1,2,2\]/,
    );
    expect(() => balancedCrossEntropyLoss(tf.zeros([1, 2, 2, 3]), tf.zeros([1, 2, 2], 'int32'))).toThrow(
      /2 channel/,
    );
    expect(() => normalsL1Loss(tf.zeros([1, 2, 2, 3]), tf.zeros([1, 2, 2, 1]))).toThrow(/labels must be/);
  });
});

describe('task definitions', () => {
  it('channels, weights and activations of both datasets', () => {
    const nyud = datasetTasks('nyud');
    expect(nyud.map((t) => [t.name, t.channels, t.lossWeight, t.activation])).toEqual([
      ['semseg', 40, 1, 'softmax'],
      ['depth', 1, 1, 'identity'],
      ['normals', 3, 10, 'unitNormalize'],
      ['edge', 1, 50, 'sigmoid'],
    ]);
    const pascal = datasetTasks('pascal');
    expect(pascal.map((t) => [t.name, t.channels, t.lossWeight])).toEqual([
      ['semseg', 21, 1],
      ['human_parts', 7, 2],
      ['sal', 2, 5],
      ['normals', 3, 10],
      ['edge', 1, 50],
    ]);
    expect(() => taskDefinition('sal', 'nyud')).toThrow(/'sal' is not a nyud task/);
    expect(() => datasetTasks('nyud', ['edge', 'edge'])).toThrow(/repeated/);
  });

  it('predictions are what the evaluators read', async () => {
    const o = tf.tensor4d([
      [
        [
          [0.1, 2, -1],
          [3, 0, 0],
        ],
      ],
    ]);
    const semseg = taskDefinition('semseg', 'pascal').predict(
      tf.pad(o, [
        [0, 0],
        [0, 0],
        [0, 0],
        [0, 18],
      ]),
    );
    expect(semseg.dtype).toBe('int32');
    expect(await semseg.data()).toEqual(Int32Array.from([1, 0]));
    const sal = taskDefinition('sal', 'pascal').predict(tf.tensor4d([[[[0, Math.log(3)]]]]));
    expectClose(await sal.data(), [0.75]);
    const edge = taskDefinition('edge', 'nyud').predict(tf.tensor4d([[[[0]]]]));
    expectClose(await edge.data(), [0.5]);
    const depth = taskDefinition('depth', 'nyud').predict(tf.tensor4d([[[[-1], [2]]]]));
    expect(await depth.data()).toEqual(Float32Array.from([0, 2]));
    const normals = taskDefinition('normals', 'nyud').predict(tf.tensor4d([[[[3, 0, 4]]]]));
    expectClose(await normals.data(), [0.6, 0, 0.8]);
  });

  it('multiTaskLoss weights and sums', async () => {
    const tasks = datasetTasks('nyud', ['depth', 'edge']);
    const outputs = { depth: tf.fill([1, 1, 2, 1], 2), edge: tf.zeros([1, 1, 2, 1]) };
    const labels = { depth: tf.tensor3d([[[1, 4]]]), edge: tf.tensor3d([[[1, 0]]], undefined, 'int32') };
    const r = multiTaskLoss(tasks, outputs, labels);
    const edgeRaw = (0.95 * Math.log(2) + 0.05 * Math.log(2)) / 2;
    expectClose(await r.unweighted.depth!.data(), [1.5]);
    expectClose(await r.weighted.edge!.data(), [50 * edgeRaw], { rtol: 1e-6 });
    expectClose(await r.total.data(), [1.5 + 50 * edgeRaw], { rtol: 1e-6 });
    expect(() => multiTaskLoss(tasks, { depth: outputs.depth }, labels)).toThrow(/no output for task 'edge'/);
  });
});
