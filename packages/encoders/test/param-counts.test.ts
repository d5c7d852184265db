import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createEncoder, PRESETS } from '../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/**
 * Parameters of a full-size preset without allocating it: every block has the same size, so the
 * count is `n(1) + (depth − 1)·(n(2) − n(1))` (checked exactly against a full build below).
 */
function countParameters(name: string): number {
  const preset = PRESETS[name];
  const depth = preset.family === 'sak' ? preset.vit.depth : preset.depth;
  const [one, two] = [1, 2].map((d) => {
    const enc = createEncoder(name, { depth: d, outLayers: [0] });
    const n = enc.numParameters();
    enc.dispose();
    return n;
  });
  return one + (depth - 1) * (two - one);
}

describe('parameter counts of the full-size presets', () => {
  it('the extrapolation is exact (a full build of a small preset agrees)', () => {
    const enc = createEncoder('vit_tiny_p8');
    expect(countParameters('vit_tiny_p8')).toBe(enc.numParameters());
    enc.dispose();
  });

  it('DINOv3 ViT-B/16 and ViT-L/16 match the published 86M and 300M (DINOv3 README)', () => {
    const b = countParameters('dinov3_vitb16');
    const l = countParameters('dinov3_vitl16');
    expect(b).toBe(85_668_864);
    expect(l).toBe(303_153_152);
    expect(Math.round(b / 1e6)).toBe(86);
    expect(Math.round(l / 1e7) * 10).toBe(300); // the README rounds ViT-L to tens of millions
  });
});
