// Shared by the cpu and webgpu parity tests: load every fixture checkpoint and compare
// forwardIntermediates with the PyTorch outputs (test/fixtures/make_encoder_fixtures.py).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSafetensors } from '@cvm/nn';
import { expectClose } from '@cvm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { createEncoder, type Encoder, loadCheckpoint } from '../src/index.js';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
export const fixture = (name: string) => readFileSync(join(FIXTURES, name));

const expected = readSafetensors(fixture('expected.safetensors')).tensors;
export function expectedTensor(name: string): tf.Tensor {
  const t = expected[name];
  if (!t) throw new Error(`expected.safetensors has no '${name}'`);
  return tf.tensor(t.values, t.shape, 'float32');
}

/** The small fixture models (D = 64, 4 blocks, 2 heads, 2 registers). */
const SMALL = { embedDim: 64, depth: 4, numHeads: 2, numRegisters: 2, outLayers: [0, 1, 2, 3] };
export const fixtureEncoder = {
  dinov3: () => createEncoder('dinov3_vitb16', SMALL),
  radio: () =>
    createEncoder('radio_v2.5-b', { ...SMALL, numClassTokens: 2, position: { type: 'cpe', maxGrid: 8 } }),
  sak: (tasks = ['semseg', 'depth']) =>
    createEncoder('sak_vitb16', {
      ...SMALL,
      numRegisters: 0,
      position: { type: 'learned', grid: [4, 6] },
      tasks,
    }),
};

/** 1e-4 absolute, plus float32-level relative slack (1e-5) for the larger un-normalised activations. */
export async function expectMaps(maps: tf.Tensor[], prefix: string, atol = 1e-4, rtol = 1e-5): Promise<void> {
  expect(maps.length).toBe(4);
  for (let i = 0; i < 4; i++) {
    const want = expected[`${prefix}.${i}`];
    expect(maps[i].shape).toEqual(want.shape);
    expectClose((await maps[i].data()) as Float32Array, want.values as Float32Array, { atol, rtol });
  }
}

async function check(
  enc: Encoder,
  file: string,
  prefix: string,
  options = {},
  image = 'image',
): Promise<void> {
  const report = await loadCheckpoint(enc, fixture(file));
  expect(report.missing).toEqual([]);
  enc.eval();
  const x = expectedTensor(image) as tf.Tensor4D;
  const maps = enc.forwardIntermediates(x, options);
  await expectMaps(maps, prefix);
  tf.dispose([x, ...maps]);
}

/** Every family and naming scheme against PyTorch on the active backend. */
export const parityCases: [string, () => Promise<void>][] = [
  [
    'DINOv3 original .pth (BF16): final norm on every read-out, raw blocks, sizes floored',
    async () => {
      const enc = fixtureEncoder.dinov3();
      await check(enc, 'dinov3_original.pth', 'dinov3');
      await check(enc, 'dinov3_original.pth', 'dinov3.raw', { norm: false });
      await check(enc, 'dinov3_original.pth', 'dinov3.odd', {}, 'image_odd');
      enc.dispose();
    },
  ],
  [
    'DINOv3 Hugging Face safetensors (F16)',
    async () => {
      const enc = fixtureEncoder.dinov3();
      await check(enc, 'dinov3_hf.safetensors', 'dinov3');
      enc.dispose();
    },
  ],
  [
    'DINOv3 timm safetensors (BF16)',
    async () => {
      const enc = fixtureEncoder.dinov3();
      await check(enc, 'dinov3_timm.safetensors', 'dinov3');
      enc.dispose();
    },
  ],
  [
    'RADIO Hugging Face export and .pth.tar (conditioner from the checkpoint, CPE crop)',
    async () => {
      for (const file of ['radio_hf.safetensors', 'radio.pth.tar']) {
        const enc = fixtureEncoder.radio();
        await check(enc, file, 'radio');
        enc.dispose();
      }
    },
  ],
  [
    'SAK stage 2 (per-task MoR, also with a resampled position grid) and stage 1 (router-less sum)',
    async () => {
      const enc = fixtureEncoder.sak();
      await loadCheckpoint(enc, fixture('sak_stage2.safetensors'));
      enc.eval();
      const x = expectedTensor('image') as tf.Tensor4D;
      const per = enc.forwardTaskIntermediates(x);
      await expectMaps(per.semseg, 'sak.semseg');
      await expectMaps(per.depth, 'sak.depth');
      tf.dispose(Object.values(per).flat());
      // Another input size: the position grid is resampled bilinearly (align_corners=False).
      const small = expectedTensor('image_small') as tf.Tensor4D;
      const resampled = enc.forwardIntermediates(small, { task: 'semseg' });
      await expectMaps(resampled, 'sak.resampled');
      tf.dispose([small, ...resampled]);
      enc.dispose();
      const stage1 = fixtureEncoder.sak([]);
      await check(stage1, 'sak_stage1.pth', 'sak.sum');
      stage1.dispose();
      x.dispose();
    },
  ],
];
