import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSafetensors, type SafetensorsContents } from '@cvm/nn';
import * as tf from '@tensorflow/tfjs-core';
import type { CrossViewModuleConfig } from '../src/index.js';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

/** The PyTorch fixture, handing out fresh tensors by name. */
export class Fixture {
  readonly contents: SafetensorsContents;
  constructor(file: string) {
    this.contents = readSafetensors(readFileSync(join(FIXTURES, file)));
  }
  names(): string[] {
    return Object.keys(this.contents.tensors);
  }
  values(name: string): Float32Array {
    const t = this.contents.tensors[name];
    if (!t) throw new Error(`fixture has no tensor '${name}'`);
    return t.values as Float32Array;
  }
  tensor(name: string): tf.Tensor {
    const t = this.contents.tensors[name];
    if (!t) throw new Error(`fixture has no tensor '${name}'`);
    return tf.tensor(t.values, t.shape, 'float32');
  }
  /** Nested-array 2-D matrix (for cameras). */
  matrix(name: string): number[][] {
    const t = this.contents.tensors[name];
    const [r, c] = t.shape;
    return Array.from({ length: r }, (_, i) => Array.from(t.values.slice(i * c, i * c + c)));
  }
}

/** The tiny configuration the fixture was made with (make_cvm_fixtures.py). */
export const FIXTURE_CONFIG: CrossViewModuleConfig = {
  encoderDims: [8, 12, 16],
  featureChannels: 16,
  numLayers: 3,
  attnSplits: 2,
  adapterHidden: 24,
  upsamplerHidden: 16,
  depthRange: { near: 0.5, far: 10, count: 8 },
};

/** A very small configuration for the fast tests. */
export const TINY_CONFIG: CrossViewModuleConfig = {
  encoderDims: [4, 6, 8],
  featureChannels: 8,
  numLayers: 2,
  attnSplits: 2,
  adapterHidden: 8,
  upsamplerHidden: 8,
  depthRange: { near: 0.5, far: 10, count: 4 },
};

/** A c2w pose: yaw about +y then a translation. */
export function pose(yaw: number, t: [number, number, number]): number[][] {
  const c = Math.cos(yaw);
  const s = Math.sin(yaw);
  return [
    [c, 0, s, t[0]],
    [0, 1, 0, t[1]],
    [-s, 0, c, t[2]],
    [0, 0, 0, 1],
  ];
}

export const K64x96 = [
  [80, 0, 47.5],
  [0, 78, 31.5],
  [0, 0, 1],
];

export const POSES = [
  pose(0, [0, 0, 0]),
  pose(0.06, [0.12, 0.01, 0.02]),
  pose(-0.05, [-0.1, 0.03, 0.05]),
  pose(0.03, [0.05, -0.04, 0.1]),
];

export async function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  const d = tf.max(tf.abs(tf.sub(a, b)));
  const v = (await d.data())[0];
  d.dispose();
  return v;
}
