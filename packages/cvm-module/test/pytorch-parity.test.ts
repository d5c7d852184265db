import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import { expectClose } from '@cvm/test-utils';
import { loadStateDict, normalizeImage, torchShape } from '@cvm/nn';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { CrossViewModule, loadUniMatchWeights, MultiViewTransformer } from '../src/index.js';
import { FIXTURE_CONFIG, FIXTURES, Fixture } from './helpers.js';

const fx = new Fixture('tiny.safetensors');

function weights(prefix?: string): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  for (const name of fx.names()) {
    if (!name.includes('.')) continue; // inputs and expected outputs have no dots
    if (prefix && !name.startsWith(`${prefix}.`)) continue;
    out.set(prefix ? name.slice(prefix.length + 1) : name, fx.tensor(name));
  }
  return out;
}

/**
 * float32 vs the float64 reference. `atol` is relative to the largest expected magnitude: the tiny
 * random model has no output norm in its last layer, so the features and cost volumes reach ~10³ and
 * float32 rounding grows with them (a wrong layout or formula is off by O(magnitude), far above this).
 */
async function expectTensorClose(actual: tf.Tensor, name: string, atol: number, rtol = 0): Promise<void> {
  expect(actual.shape).toEqual(fx.contents.tensors[name].shape);
  const expected = fx.values(name);
  const scale = Math.max(1, ...Array.from(expected, Math.abs));
  expectClose((await actual.data()) as Float32Array, expected, { atol: atol * scale, rtol });
}

let cvm: CrossViewModule;
const images = () => [0, 1, 2].map((i) => fx.tensor(`image${i}`));
const cameras = (n: number) => ({
  intrinsics: [0, 1, 2].slice(0, n).map((i) => fx.matrix(`K${i}`)),
  cameraToWorld: [0, 1, 2].slice(0, n).map((i) => fx.matrix(`c2w${i}`)),
});

beforeAll(async () => {
  await tf.setBackend('cpu');
  cvm = new CrossViewModule(FIXTURE_CONFIG);
  const all = weights();
  const report = loadUniMatchWeights(cvm, all);
  // The paper's change: the last block's FFN output norm is not in CvM.
  expect(report.ignored.filter((n) => n.startsWith('transformer'))).toEqual([
    'transformer.layers.2.cross_attn_ffn.norm2.weight',
    'transformer.layers.2.cross_attn_ffn.norm2.bias',
  ]);
  expect(report.notInCheckpoint.every((n) => /^(adapter|upsampler)\./.test(n))).toBe(true);
  tf.dispose([...all.values()]);
  for (const part of ['adapter', 'upsampler'] as const) {
    const w = weights(part);
    loadStateDict(cvm[part]!, w);
    tf.dispose([...w.values()]);
  }
});

describe('parity with the PyTorch formulation (make_cvm_fixtures.py)', () => {
  it('spatial encoder (UniMatch CNNEncoder, ImageNet normalisation)', async () => {
    for (const [i, image] of images().entries()) {
      const out = tf.tidy(() => cvm.backbone.forward(normalizeImage(image)));
      await expectTensorClose(out, `encoder${i}`, 2e-4, 1e-4);
      tf.dispose([out, image]);
    }
  });

  it('UniMatch transformer with every norm, 2 and 3 views (interleaved keys, correct shift mask)', async () => {
    const t = new MultiViewTransformer({ numLayers: 3, dModel: 16, removeFinalNorm: false });
    const w = weights('transformer');
    loadStateDict(t, w); // strict: exactly UniMatch's names and shapes
    for (const n of [2, 3]) {
      const enc = Array.from({ length: n }, (_, i) => fx.tensor(`encoder${i}`));
      const out = t.forward(enc);
      for (let i = 0; i < n; i++) await expectTensorClose(out[i], `transformer${n}_${i}`, 2e-4, 1e-4);
      tf.dispose([...enc, ...out]);
    }
    tf.dispose([...w.values()]);
    t.dispose();
  });

  for (const n of [2, 3]) {
    it(`whole CvM, ${n} views: features, cost volumes and upsampled outputs`, async () => {
      const ims = images();
      const r = cvm.forwardWithIntermediates(ims.slice(0, n), cameras(n));
      for (let i = 0; i < n; i++) {
        await expectTensorClose(r.features[i], `cvm${n}_features${i}`, 1e-5, 1e-4);
        await expectTensorClose(r.costVolumes[i], `cvm${n}_cost${i}`, 1e-5, 1e-4);
        await expectTensorClose(r.outputs[i], `cvm${n}_out${i}`, 1e-5, 1e-4);
      }
      tf.dispose([...ims, ...r.outputs, ...r.features, ...r.costVolumes]);
    });
  }

  it('single view: duplicated input, identity intrinsics and pose', async () => {
    const ims = images();
    const [out] = cvm.forward([ims[0]]);
    await expectTensorClose(out, 'cvm1_out0', 1e-5, 1e-4);
    tf.dispose([...ims, out]);
  });
});

describe('UniMatch checkpoint names', () => {
  const ref = JSON.parse(readFileSync(join(FIXTURES, 'unimatch_names.json'), 'utf8')) as {
    shapes: Record<string, number[]>;
    counts: Record<string, number>;
  };

  it('the full-size encoder and transformer have exactly UniMatch names, shapes and sizes', () => {
    const m = new CrossViewModule({ removeFinalNorm: false });
    const ours = Object.fromEntries(
      m
        .namedEntries()
        .filter((e) => /^(backbone|transformer)\./.test(e.name))
        .map((e) => [
          e.name,
          e.layout === 'plain' ? [...e.variable.shape] : torchShape(e.variable.shape, e.layout),
        ]),
    );
    expect(ours).toEqual(ref.shapes);
    expect(m.backbone.numParameters()).toBe(1_049_120);
    expect(m.transformer.layers.get(0).numParameters()).toBe(525_056);
    expect(m.transformer.numParameters()).toBe(ref.counts.transformer);
    m.dispose();
  });

  it('a UniMatch state dict loads into the paper configuration (final norm dropped) with layouts converted', async () => {
    const m = new CrossViewModule();
    let seed = 1;
    const sd: Record<string, tf.Tensor> = {};
    for (const [name, shape] of Object.entries(ref.shapes)) {
      const n = shape.reduce((a, b) => a * b, 1);
      sd[`module.${name}`] = tf.tensor(
        Float32Array.from({ length: n }, () => (seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5),
        shape,
      );
    }
    sd['module.upsampler.0.weight'] = tf.zeros([256, 130, 3, 3]); // a GMDepth head part, ignored
    const report = loadUniMatchWeights(m, sd);
    expect(report.loaded.length).toBe(Object.keys(ref.shapes).length - 2);
    expect(report.ignored.sort()).toEqual(
      [
        'module.transformer.layers.5.cross_attn_ffn.norm2.bias',
        'module.transformer.layers.5.cross_attn_ffn.norm2.weight',
        'module.upsampler.0.weight',
      ].sort(),
    );
    // torch conv [out,in,kh,kw] element (o=5, i=2, y=1, x=6) is tfjs [kh,kw,in,out] element (1,6,2,5).
    const torchW = await sd['module.backbone.conv1.weight'].data();
    const ours = await m.backbone.conv1.weight.data();
    expect(ours[((1 * 7 + 6) * 3 + 2) * 64 + 5]).toBe(torchW[((5 * 3 + 2) * 7 + 1) * 7 + 6]);
    // Linear [out,in] → [in,out].
    const torchL = await sd['module.transformer.layers.3.cross_attn_ffn.mlp.0.weight'].data(); // [1024,256]
    const oursL = await m.transformer.layers.get(3).cross_attn_ffn.mlp!.fc1.weight.data(); // [256,1024]
    expect(oursL[17 * 1024 + 900]).toBe(torchL[900 * 256 + 17]);
    tf.dispose(Object.values(sd));
    m.dispose();
  });

  it('a checkpoint of another shape is rejected before anything is assigned', () => {
    const m = new CrossViewModule({ numLayers: 1, featureChannels: 8, encoderDims: [4, 4, 8] });
    const before = m.backbone.conv1.weight.dataSync().slice();
    const sd: Record<string, tf.Tensor> = { 'backbone.conv1.weight': tf.zeros([4, 3, 7, 7]) };
    expect(() => loadUniMatchWeights(m, sd)).toThrow(/nothing was loaded.*missing backbone\.conv2\.weight/s);
    sd['backbone.conv1.weight'].dispose();
    sd['backbone.conv1.weight'] = tf.zeros([5, 3, 7, 7]);
    expect(() => loadUniMatchWeights(m, sd)).toThrow(/backbone\.conv1\.weight: expected \[4,3,7,7\]/);
    expect(m.backbone.conv1.weight.dataSync()).toEqual(before);
    tf.dispose(Object.values(sd));
    m.dispose();
  });
});
