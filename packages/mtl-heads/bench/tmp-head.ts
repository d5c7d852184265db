import { selectBackend } from '@cvm/backend';
import '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs-core';
import { DecodeHead } from '../src/index.js';
const MiB = 2 ** 20;
await selectBackend(['wasm']);
const head = new DecodeHead({ inChannels: 768, numClasses: 40, cvmChannels: 0, fusionResolution: 'quarter' });
head.train();
const maps = [0, 1, 2, 3].map(() => tf.randomUniform([1, 28, 36, 768]) as tf.Tensor4D);
const base = tf.memory().numBytes;
const info = await tf.profile(() => {
  const { value, grads } = tf.variableGrads(
    () => tf.mean(head.forward(maps, [448, 576], null)) as tf.Scalar,
    head.parameters(),
  );
  tf.dispose([value, ...Object.values(grads)]);
});
console.log(`peak ${((info.peakBytes - base) / MiB).toFixed(0)} MiB`);
const ks = info.kernels;
let peakIdx = 0;
ks.forEach((k, i) => {
  if (k.totalBytesSnapshot > ks[peakIdx].totalBytesSnapshot) peakIdx = i;
});
for (const k of [...ks].sort((a, b) => b.bytesAdded - a.bytesAdded).slice(0, 30))
  console.log(
    k.name.padEnd(26),
    ((k.totalBytesSnapshot - base) / MiB).toFixed(0).padStart(6),
    (k.bytesAdded / MiB).toFixed(0).padStart(6),
    JSON.stringify(k.inputShapes),
    JSON.stringify(k.outputShapes),
    (k.kernelTimeMs as number).toFixed(0),
  );
process.exit(0);
