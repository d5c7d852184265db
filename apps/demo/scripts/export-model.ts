/**
 * Ships a training checkpoint in the demo: `pnpm --filter demo export-model <checkpoint-dir>` writes
 * `public/model/model.safetensors` (float tensors as F16, through `@cvm/nn`'s safetensors writer;
 * BatchNorm counters stay integers) and `public/model/config.json` (the checkpoint's), after checking
 * that the F16 weights load into the architecture the config describes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeSafetensors, readSafetensors } from '@cvm/nn';
import '@tensorflow/tfjs-backend-cpu';
import { type CheckpointConfig, loadModel } from '../src/model.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: export-model <checkpoint-dir> (e.g. runs/demo/checkpoints/best)');
const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'public', 'model');
const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as CheckpointConfig;
const { tensors, metadata } = readSafetensors(readFileSync(join(dir, 'model.safetensors')));
const host = Object.fromEntries(
  Object.entries(tensors).map(([k, t]) => [k, { shape: t.shape, values: t.values }]),
);
const bytes = encodeSafetensors(host, {
  dtype: 'F16',
  overflow: 'keep-f32', // BatchNorm running variances beyond ±65504 stay F32
  metadata: { ...metadata, source: 'apps/train checkpoint, floats as F16' },
});
loadModel(config, bytes).dispose(); // strict: every name and shape
writeFileSync(join(out, 'model.safetensors'), bytes);
writeFileSync(join(out, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
console.log(
  `wrote ${join(out, 'model.safetensors')} (${(bytes.byteLength / 2 ** 20).toFixed(2)} MiB, ${Object.keys(tensors).length} tensors)`,
);
