import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose } from '@cvm/test-utils';
import { resamplePositionEmbedding } from '../src/checkpoint/resample-position.js';
import { createEncoder, loadCheckpoint, loadCheckpointContents, readCheckpoint } from '../src/index.js';
import { expectedTensor, fixture } from './parity.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const SMALL = { embedDim: 64, depth: 4, numHeads: 2, outLayers: [0, 1, 2, 3] };

describe('checkpoint/encoder mismatches', () => {
  it('a position grid that differs from the checkpoint gives a strict error with a hint; non-strict loads the rest', async () => {
    const enc = createEncoder('sak_vitb16', {
      ...SMALL,
      position: { type: 'learned', grid: [2, 3] },
      tasks: ['semseg', 'depth'],
    });
    await expect(loadCheckpoint(enc, fixture('sak_stage2.safetensors'))).rejects.toThrow(
      /vit\.pos_embed expected \[1,7,64\] got \[1,25,64\][\s\S]*create it with the checkpoint's grid/,
    );
    const report = await loadCheckpoint(enc, fixture('sak_stage2.safetensors'), { strict: false });
    expect(report.mismatched.map((m) => m.name)).toEqual(['vit.pos_embed']);
    expect(report.ignored).toEqual([
      'heads.semseg.linears.0.weight',
      'heads.semseg.linear_fuse.1.running_mean',
    ]);
    expect(report.loaded.length).toBe(enc.namedEntries().length - 1);
    enc.dispose();
  });
});

describe('position-grid transfer (timm / SAK stage 1 → 2)', () => {
  const pos = (name: string) => {
    const t = expectedTensor(name);
    const values = t.dataSync() as Float32Array;
    const shape = t.shape;
    t.dispose();
    return { dtype: 'F32' as const, shape, values };
  };

  it('bicubic resampling equals PyTorch F.interpolate(bicubic, align_corners=False), down and up', () => {
    for (const [gh, gw] of [
      [4, 6],
      [7, 9],
    ] as const) {
      const out = resamplePositionEmbedding(pos('pos_bicubic.src'), 1, [gh, gw]);
      expect(out?.shape).toEqual([1, 1 + gh * gw, 64]);
      expectClose(out?.values as Float32Array, pos(`pos_bicubic.${gh}x${gw}`).values, { atol: 1e-5 });
    }
    expect(
      resamplePositionEmbedding(
        { dtype: 'F32', shape: [1, 1 + 24, 2], values: new Float32Array(50) },
        1,
        [2, 2],
      ),
    ).toBeNull();
  });

  it("loading a checkpoint made for another square grid resamples it to the encoder's grid", async () => {
    const contents = readCheckpoint(fixture('sak_stage1.pth'));
    contents.tensors['vit.pos_embed'] = pos('pos_bicubic.src'); // as if trained at 80×80 (5×5)
    const enc = createEncoder('sak_vitb16', {
      ...SMALL,
      position: { type: 'learned', grid: [4, 6] },
      tasks: [],
    });
    const report = loadCheckpointContents(enc, contents);
    expect(report.resampled).toEqual(['vit.pos_embed']);
    const loaded = enc.namedParameters().find(([n]) => n === 'vit.pos_embed')?.[1] as tf.Variable;
    expectClose(loaded.dataSync(), pos('pos_bicubic.4x6').values, { atol: 1e-5 });
    enc.dispose();
  });
});
