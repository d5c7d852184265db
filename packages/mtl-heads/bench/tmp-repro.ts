import { selectBackend } from '@cvm/backend';
import { createEncoder } from '@cvm/encoders';
import { wasmHeapBytes } from '@cvm/test-utils/bench';
import '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs-core';
import { datasetTasks, MultiTaskModel, Trainer } from '../src/index.js';
const GiB = 2 ** 30;
await selectBackend(['wasm']);
const ballastGiB = Number(process.argv[2] ?? '2.2');
const ckpt = process.argv[3] !== 'plain';
const ballast: tf.Tensor[] = [];
for (let b = 0; b < ballastGiB * GiB; b += 2 ** 28) ballast.push(tf.fill([2 ** 26], 1));
console.log(`ballast ${ballastGiB} GiB; heap ${(wasmHeapBytes(tf.backend()) / GiB).toFixed(2)}`);
const [h, w] = (process.argv[4] ?? '64x96').split('x').map(Number);
const enc =
  process.argv[5] === 'vitb'
    ? createEncoder('dinov3_vitb16', { depth: 1, outLayers: [0, 0, 0, 0] })
    : createEncoder('dinov3_vits16', { embedDim: 64, depth: 2, numHeads: 2, outLayers: [0, 1, 1, 1] });
const model = new MultiTaskModel(enc, {
  tasks: datasetTasks('nyud', (process.argv[6] ?? 'semseg,depth,normals,edge').split(',') as never),
  cvm: 'none',
});
const trainer = new Trainer(model, { checkpointActivations: ckpt });
const all: Record<string, tf.Tensor> = {
  semseg: tf.zeros([1, h, w], 'int32'),
  depth: tf.ones([1, h, w]),
  normals: tf.ones([1, h, w, 3]),
  edge: tf.zeros([1, h, w], 'int32'),
};
const labels = Object.fromEntries(model.tasks.map((t) => [t.name, all[t.name]]));
try {
  const r = await trainer.step({ images: [tf.randomUniform([1, h, w, 3])], labels });
  console.log('ok', r.total, `heap ${(wasmHeapBytes(tf.backend()) / GiB).toFixed(2)}`);
} catch (e) {
  console.log('FAILED', (e as Error).stack?.split('\n').slice(0, 12).join('\n'));
}
process.exit(0);
