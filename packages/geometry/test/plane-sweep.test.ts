import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { inverseDepthCandidates, planeSweepCoordinates, relativePose } from '../src/index.js';

const K = [
  [50, 0, 31.5],
  [0, 48, 23.5],
  [0, 0, 1],
];

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('planeSweepCoordinates', () => {
  it('is the identity for an identity pose, for every candidate', async () => {
    const eye = tf.eye(4);
    const c = planeSweepCoordinates(K, eye, inverseDepthCandidates(0.5, 10, 4), 6, 8);
    const v = (await c.array()) as number[][][][][];
    for (let l = 0; l < 4; l++)
      for (let y = 0; y < 6; y++)
        for (let x = 0; x < 8; x++) {
          expect(v[0][l][y][x][0]).toBeCloseTo(x, 4);
          expect(v[0][l][y][x][1]).toBeCloseTo(y, 4);
        }
    tf.dispose([c, eye]);
  });

  it('shifts by fx·tx/d under a pure x-translation', async () => {
    // Neighbour camera 0.2 m to the right of the reference: c2w_nbr translates by +0.2 in x.
    const c2wRef = tf.eye(4);
    const c2wNbr = tf.tensor2d([1, 0, 0, 0.2, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], [4, 4]);
    const pose = relativePose(c2wRef, c2wNbr);
    const inv = [0.1, 0.5, 1, 2];
    const c = planeSweepCoordinates(K, pose, inv, 6, 8);
    const v = (await c.array()) as number[][][][][];
    inv.forEach((s, l) => {
      // A point at depth d seen from a camera displaced by +tx appears at x - fx·tx/d.
      expect(v[0][l][2][3][0]).toBeCloseTo(3 - 50 * 0.2 * s, 4);
      expect(v[0][l][2][3][1]).toBeCloseTo(2, 4);
    });
    tf.dispose([c, c2wRef, c2wNbr, pose]);
  });
});
