import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { readFileSync } from 'node:fs';
import { expectClose } from '@cvm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { costVolume } from '../src/index.js';

/** Written by `fixtures/make_cost_volume.py` (PyTorch, the references' warp + grid_sample + mean). */
interface FixtureCase {
  name: string;
  shape: [number, number, number, number];
  depths: number;
  reference: number[];
  neighbours: number[][];
  intrinsics: number[];
  poses: number[][];
  inverseDepths: number[];
  volume: number[];
  dy: number[];
  dReference: number[];
  dNeighbours: number[][];
}

const fixture = JSON.parse(readFileSync(new URL('./fixtures/cost_volume.json', import.meta.url), 'utf8')) as {
  cases: FixtureCase[];
};

beforeAll(async () => {
  await tf.setBackend('cpu');
  tf.env().set('IS_TEST', true);
});

describe('costVolume matches the references (PyTorch fixture)', () => {
  for (const c of fixture.cases) {
    for (const implementation of ['fused', 'composite'] as const) {
      it(`${implementation}: ${c.name}`, async () => {
        const [B, H, W, C] = c.shape;
        const reference = tf.tensor4d(c.reference, c.shape);
        const neighbours = c.neighbours.map((n) => tf.tensor4d(n, c.shape));
        const options = {
          intrinsics: tf.tensor3d(c.intrinsics, [B, 3, 3]),
          poses: c.poses.map((p) => tf.tensor3d(p, [B, 4, 4])),
          inverseDepths: tf.tensor2d(c.inverseDepths, [B, c.depths]),
          implementation,
          chunkSize: 3,
        };
        const dy = tf.tensor4d(c.dy, [B, H, W, c.depths]);
        const f = (r: tf.Tensor, ...ns: tf.Tensor[]) =>
          tf.sum(tf.mul(costVolume(r as tf.Tensor4D, ns as tf.Tensor4D[], options), dy));
        const volume = costVolume(reference, neighbours, options);
        const grads = tf.grads(f)([reference, ...neighbours]);
        expect(volume.shape).toEqual([B, H, W, c.depths]);
        expectClose(await volume.data(), c.volume, { atol: 1e-5 });
        expectClose(await grads[0].data(), c.dReference, { atol: 1e-5 });
        for (let i = 0; i < neighbours.length; i++) expectClose(await grads[i + 1].data(), c.dNeighbours[i], { atol: 1e-5 });
        expect(C).toBeGreaterThan(1);
        tf.dispose([reference, ...neighbours, options.intrinsics, ...options.poses, options.inverseDepths, dy, volume, ...grads]);
      });
    }
  }
});
