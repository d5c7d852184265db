import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createEncoder, loadCheckpoint } from '../src/index.js';
import { fixture } from './parity.js';

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
