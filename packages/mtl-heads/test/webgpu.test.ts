import '@tensorflow/tfjs-backend-cpu';
import { useWebGPUForTests } from '@cvm/backend';
import { expectClose, seededUniform } from '@cvm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { DecodeHead, datasetTasks, multiTaskLoss } from '../src/index.js';
import { maxAbs } from './helpers.js';

describe('webgpu backend (SwiftShader in Node)', () => {
  it('a CvM-fused head and its losses match the cpu backend, forward and gradients, without leaks', async () => {
    await tf.setBackend('cpu');
    const head = new DecodeHead({ inChannels: 16, numClasses: 3, cvmChannels: 4 });
    const [normals] = datasetTasks('nyud', ['normals']);
    const run = async () => {
      const maps = [0, 1, 2, 3].map((k) => seededUniform([2, 2, 3, 16], k + 1, -1, 1));
      const cvm = seededUniform([2, 16, 24, 4], 7, -1, 1);
      const labels = { normals: seededUniform([2, 32, 48, 3], 8, -1, 1) };
      const vars = head.namedParameters().map(([, v]) => v);
      const before = tf.memory().numTensors;
      let out: tf.Tensor | null = null;
      const { value, grads } = tf.variableGrads(() => {
        const y = head.forward(maps, [32, 48], cvm);
        out = tf.keep(y);
        return multiTaskLoss([normals], { normals: y }, labels).total;
      }, vars);
      const result = {
        out: await (out as unknown as tf.Tensor).data(),
        loss: (await value.data())[0],
        grads: await Promise.all(vars.map((v) => grads[v.name].data())),
      };
      tf.dispose([value, out as unknown as tf.Tensor, ...Object.values(grads)]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([...maps, cvm, labels.normals]);
      return result;
    };
    const cpu = await run();
    // Same weights on both backends: take them to the host and back after the switch.
    const weights = await Promise.all(
      head.namedEntries().map(async (e) => [e.variable, await e.variable.data()] as const),
    );
    if (!(await useWebGPUForTests())) return;
    for (const [v, data] of weights) v.assign(tf.tensor(data, v.shape, v.dtype));
    const gpu = await run();
    expectClose(gpu.out, cpu.out, { atol: 1e-4 * maxAbs(cpu.out) });
    expectClose([gpu.loss], [cpu.loss], { rtol: 1e-4 });
    // The fuse conv's bias sits before BatchNorm: its true gradient is 0, both backends give rounding noise.
    cpu.grads.forEach((g, i) => {
      expectClose(gpu.grads[i], g, { atol: Math.max(1e-3 * maxAbs(g), 1e-6) });
    });
    head.dispose();
    await tf.setBackend('cpu');
  });
});
