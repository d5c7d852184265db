import '@tensorflow/tfjs-backend-cpu';
import { toTorchLayout } from '@cvm/nn';
import { expectClose } from '@cvm/test-utils';
import { selectBackend } from '@cvm/backend';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datasetTasks, MultiTaskModel, multiTaskLoss, type TaskName } from '../src/index.js';
import { FIXTURE_CVM, Fixture, maxAbs, TinyEncoder } from './helpers.js';

let fx: Fixture;
beforeAll(() => {
  fx = new Fixture('heads.safetensors');
});

afterAll(() => {
  if (tf.findBackend('wasm')) tf.removeBackend('wasm'); // ends cpu-xnnpack's pthread workers
});

const TASKS: TaskName[] = ['semseg', 'depth', 'normals', 'edge'];

// cpu (with the fast Conv2DBackpropFilter selectBackend registers), and cpu-xnnpack: the same
// tensors in JS memory with the heavy kernels on XNNPACK and the cost volume's cpu kernel carried over.
describe.each(['cpu', 'cpu-xnnpack'] as const)(
  'one full small model step equals PyTorch on %s (1e-4; gradients 2e-4 on cpu-xnnpack)',
  (backend) => {
    it('tiny encoder + CvM (2 views) + NYUD heads: outputs, weighted losses, every gradient, BN stats', async () => {
      await selectBackend([backend]);
      // XNNPACK sums in another order than cpu's loops: a filter-gradient element there differed from
      // PyTorch's by 1.13e-4 of its tensor's largest value.
      const gradTolerance = backend === 'cpu' ? 1e-4 : 2e-4;
      const tasks = datasetTasks('nyud');
      const model = new MultiTaskModel(new TinyEncoder(16, 16), {
        tasks,
        cvm: 'full',
        cvmConfig: FIXTURE_CVM,
      });
      // Strict by name, except the last transformer layer's output norm, which the paper removes: the
      // PyTorch reference keeps its unused parameters, the CvM does not register them.
      const removedNorm = ['weight', 'bias'].map((p) => `cvm.transformer.layers.2.cross_attn_ffn.norm2.${p}`);
      fx.load(model, 'model.init', removedNorm);
      const images = [0, 1].map((i) => fx.tensor(`model.image${i}`));
      const cameras = {
        intrinsics: [0, 1].map((i) => fx.matrix(`model.K${i}`)),
        cameraToWorld: [0, 1].map((i) => fx.matrix(`model.c2w${i}`)),
      };
      const labels = Object.fromEntries(
        TASKS.map((t) => [
          t,
          fx.tensor(`model.label.${t}`, t === 'semseg' || t === 'edge' ? 'int32' : 'float32'),
        ]),
      );
      const before = tf.memory().numTensors;
      const kept: Record<string, tf.Tensor> = {};
      const params = model.namedEntries().filter((e) => e.kind === 'parameter');
      const { value, grads } = tf.variableGrads(
        () => {
          const outputs = model.forward(images, cameras);
          const loss = multiTaskLoss(tasks, outputs, labels);
          for (const t of TASKS) {
            kept[`output.${t}`] = tf.keep(outputs[t] as tf.Tensor);
            kept[`loss.${t}`] = tf.keep(loss.weighted[t] as tf.Tensor);
          }
          return loss.total;
        },
        params.map((e) => e.variable),
      );
      expectClose(await value.data(), fx.values('model.loss.total'), { rtol: 1e-4 });
      for (const t of TASKS) {
        expectClose(await kept[`loss.${t}`].data(), fx.values(`model.loss.${t}`), { rtol: 1e-4 });
        const ref = fx.values(`model.output.${t}`);
        expectClose(await kept[`output.${t}`].data(), ref, { atol: 1e-4 * maxAbs(ref) });
      }
      let compared = 0;
      for (const e of params) {
        const g = grads[e.variable.name];
        const name = `model.grad.${e.name}`;
        if (!fx.has(name)) {
          expect(g, `${e.name} has no PyTorch gradient, so it must have none here`).toBeUndefined();
          continue;
        }
        const ref = fx.values(name);
        const ours = toTorchLayout(e.name, g, e.layout);
        expectClose(await ours.data(), ref, { atol: gradTolerance * Math.max(maxAbs(ref), 1e-3) });
        ours.dispose();
        compared++;
      }
      expect(compared).toBe(fx.names('model.grad.').length);
      for (const [name, v] of model.namedBuffers()) {
        const ref = fx.values(`model.after.${name}`);
        expectClose(await v.data(), ref, { atol: 1e-4 * Math.max(maxAbs(ref), 1) });
      }
      tf.dispose([value, ...Object.values(grads), ...Object.values(kept)]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([...images, ...Object.values(labels)]);
      model.dispose();
    });
  },
);
