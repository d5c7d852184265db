import '@tensorflow/tfjs-backend-cpu';
import { expectNoLeaks, seededUniform } from '@cvm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createEncoder, listEncoders, SAKEncoder, VisionTransformer } from '../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('registry', () => {
  it('lists the paper presets and the small ones', () => {
    expect(listEncoders()).toEqual(
      expect.arrayContaining([
        'dinov3_vits16',
        'dinov3_vitb16',
        'dinov3_vitl16',
        'radio_v2.5-b',
        'radio_v2.5-l',
        'sak_vitb16',
        'sak_vitl16',
        'vit_tiny_p8',
        'vit_nano_p8',
      ]),
    );
    expect(() => createEncoder('vit_huge')).toThrow(/unknown encoder 'vit_huge'.*dinov3_vitb16/);
    expect(() => createEncoder('vit_nano_p8', { tasks: ['semseg'] })).toThrow(/not a SAK encoder.*tasks/);
    expect(() => createEncoder('vit_nano_p8', { numHeads: 5 })).toThrow(/numHeads=5 must divide embedDim=96/);
  });
});

describe('input normalisation', () => {
  it('each family normalises RGB in [0, 1] with its own statistics', () => {
    const gray = tf.fill([1, 8, 8, 3], 0.5) as tf.Tensor4D;
    const cases: [string, number[], number[]][] = [
      ['vit_nano_p8', [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]],
      ['dinov3_vitl16_sat493m', [0.43, 0.411, 0.296], [0.213, 0.156, 0.143]],
      ['radio_v2.5-b', [0.48145466, 0.4578275, 0.40821073], [0.26862954, 0.26130258, 0.27577711]],
    ];
    for (const [name, mean, std] of cases) {
      const enc = createEncoder(name, {
        depth: 1,
        outLayers: [0],
        embedDim: 8,
        numHeads: 1,
      }) as VisionTransformer;
      const y = enc.normalizeInput(gray);
      const got = Array.from(y.dataSync().slice(0, 3));
      for (const [c, v] of got.entries()) {
        expect(v, `${name} channel ${c}`).toBeCloseTo((0.5 - mean[c]) / std[c], 5);
      }
      y.dispose();
      enc.dispose();
    }
    gray.dispose();
  });
});

describe('tiny ViT (the embedded default)', () => {
  it('forwardIntermediates gives four [B, H/p, W/p, D] maps and leaks nothing', async () => {
    const enc = createEncoder('vit_nano_p8');
    expect(enc).toBeInstanceOf(VisionTransformer);
    expect([enc.embedDim, enc.patchSize, enc.depth, enc.tasks]).toEqual([96, 8, 4, []]);
    const images = seededUniform([2, 12, 50, 3], 1, 0, 1) as tf.Tensor4D;
    const maps = await expectNoLeaks(() => enc.forwardIntermediates(images));
    expect(maps.map((m) => m.shape)).toEqual(Array(4).fill([2, 1, 6, 96]));
    // The last read-out with norm equals the final features of forwardFeatures.
    const feats = enc.eval() && (enc as VisionTransformer).forwardFeatures(images);
    const diff = tf.max(tf.abs(tf.sub(feats.patches, maps[3]))).dataSync()[0];
    expect(diff).toBeLessThan(1e-6);
    const raw = enc.forwardIntermediates(images, { layers: [3], norm: false });
    expect(tf.max(tf.abs(tf.sub(raw[0], maps[3]))).dataSync()[0]).toBeGreaterThan(1e-3);
    expect(() => enc.forwardIntermediates(images, { layers: [4] })).toThrow(
      /layer 4 is not a block index in \[0, 4\)/,
    );
    expect(() => enc.forwardIntermediates(tf.zeros([1, 4, 4, 3]) as tf.Tensor4D)).toThrow(
      /smaller than one 8x8 patch/,
    );
    tf.dispose([images, ...maps, ...raw, feats.patches, feats.prefix]);
    enc.dispose();
  });

  it('generic per-task callers: task-agnostic encoders share one set of maps; layers in any order', async () => {
    const enc = createEncoder('vit_nano_p8', { depth: 3, outLayers: [0, 1, 2] });
    const images = tf.randomUniform([1, 16, 24, 3]) as tf.Tensor4D;
    const per = await expectNoLeaks(() => enc.forwardTaskIntermediates(images, ['semseg', 'depth']));
    expect(per.semseg).toBe(per.depth);
    expect(per.semseg.map((m) => m.shape)).toEqual(Array(3).fill([1, 2, 3, 96]));
    expect(() => enc.forwardTaskIntermediates(images)).toThrow(/needs task names/);
    expect(() => enc.forwardIntermediates(images, { task: 'depth' })).toThrow(/has no tasks/);
    const picked = enc.forwardIntermediates(images, { layers: [2, 0, 2] });
    expect(tf.max(tf.abs(tf.sub(picked[1], per.semseg[0]))).dataSync()[0]).toBe(0);
    expect(tf.max(tf.abs(tf.sub(picked[0], per.semseg[2]))).dataSync()[0]).toBe(0);
    expect(picked[2]).toBe(picked[0]);
    tf.dispose([images, ...per.semseg, ...picked]);
    enc.dispose();
  });

  it('every parameter gets a gradient (trainable from scratch)', () => {
    const enc = createEncoder('vit_nano_p8', { depth: 2, outLayers: [0, 1] });
    const images = tf.randomUniform([1, 16, 24, 3]) as tf.Tensor4D;
    const { grads } = tf.variableGrads(
      () => tf.addN(enc.forwardIntermediates(images).map((m) => tf.mean(tf.square(m)))) as tf.Scalar,
    );
    const named = enc.namedParameters();
    for (const [name, v] of named) {
      const g = grads[v.name];
      expect(g, name).toBeDefined();
      expect(tf.max(tf.abs(g)).dataSync()[0], name).toBeGreaterThan(0);
    }
    tf.dispose([images, ...Object.values(grads)]);
    enc.dispose();
  });
});

describe('SAK', () => {
  it('returns one set of maps per task, the router-less sum without a task', () => {
    const enc = createEncoder('sak_vitb16', {
      embedDim: 32,
      depth: 4,
      numHeads: 2,
      outLayers: [0, 1, 2, 3],
      position: { type: 'learned', grid: [2, 3] },
      tasks: ['semseg', 'depth'],
    }) as SAKEncoder;
    expect(enc).toBeInstanceOf(SAKEncoder);
    const names = enc.namedParameters().map(([n]) => n);
    expect(names).toContain('vit.pos_embed');
    expect(names).toContain('tsap.clip.4.down.weight');
    expect(names).toContain('out_norms.3_sam.weight');
    expect(names).toContain('mor.2_depth.router.module.3.bias');
    const images = tf.randomUniform([1, 32, 48, 3]) as tf.Tensor4D;
    const per = enc.forwardTaskIntermediates(images);
    expect(Object.keys(per)).toEqual(['semseg', 'depth']);
    expect(per.depth.map((m) => m.shape)).toEqual(Array(4).fill([1, 2, 3, 32]));
    const one = enc.forwardIntermediates(images, { task: 'depth' });
    expect(tf.max(tf.abs(tf.sub(one[2], per.depth[2]))).dataSync()[0]).toBeLessThan(1e-6);
    expect(() => enc.forwardIntermediates(images, { task: 'edge' })).toThrow(/unknown task 'edge'/);
    tf.dispose([images, ...one, ...Object.values(per).flat()]);
    enc.dispose();
  });
});
