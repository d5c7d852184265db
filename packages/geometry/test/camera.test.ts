import '@tensorflow/tfjs-backend-cpu';
import { expectClose } from '@cvm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DEPTH_PRESETS,
  checkIntrinsics,
  checkPoses,
  inverseDepthCandidates,
  invertIntrinsics,
  planeSweepProjection,
  relativePose,
  scaleIntrinsics,
} from '../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const K = [
  [520, 1.5, 319.5],
  [0, 518, 239.5],
  [0, 0, 1],
];

function matmul(a: number[][], b: number[][]): number[][] {
  return a.map((row) => b[0].map((_, j) => row.reduce((s, v, k) => s + v * b[k][j], 0)));
}

/** A rigid c2w from Euler angles (radians) and a translation. */
function rigid(rx: number, ry: number, rz: number, t: number[]): number[][] {
  const [cx, sx, cy, sy, cz, sz] = [
    Math.cos(rx),
    Math.sin(rx),
    Math.cos(ry),
    Math.sin(ry),
    Math.cos(rz),
    Math.sin(rz),
  ];
  const r = matmul(
    matmul(
      [
        [cz, -sz, 0],
        [sz, cz, 0],
        [0, 0, 1],
      ],
      [
        [cy, 0, sy],
        [0, 1, 0],
        [-sy, 0, cy],
      ],
    ),
    [
      [1, 0, 0],
      [0, cx, -sx],
      [0, sx, cx],
    ],
  );
  return [
    [...r[0], t[0]],
    [...r[1], t[1]],
    [...r[2], t[2]],
    [0, 0, 0, 1],
  ];
}

describe('intrinsics', () => {
  it('inverts analytically: K·K⁻¹ = I', async () => {
    const inv = (await invertIntrinsics(K).array()) as number[][];
    // Against the closed form, then K·K⁻¹ = I up to float32 storage of K⁻¹.
    const [fx, s, ccx, fy, ccy] = [520, 1.5, 319.5, 518, 239.5];
    const closed = [1 / fx, -s / (fx * fy), (s * ccy - ccx * fy) / (fx * fy), 0, 1 / fy, -ccy / fy, 0, 0, 1];
    expectClose(inv.flat(), closed, { rtol: 1e-7, atol: 0 });
    expectClose(matmul(K, inv).flat(), [1, 0, 0, 0, 1, 0, 0, 0, 1], { atol: 3e-5 });
  });

  it('scales for strided features (K/s, the default) and for pooled features', async () => {
    const ref = (await scaleIntrinsics(K, 8).array()) as number[][];
    expectClose(ref.flat(), [65, 1.5 / 8, 319.5 / 8, 0, 518 / 8, 239.5 / 8, 0, 0, 1], { atol: 1e-5 });
    const strided = (await scaleIntrinsics(K, 8, { scaling: 'strided' }).array()) as number[][];
    expect(strided).toEqual(ref);
    const formerName = (await scaleIntrinsics(K, 8, { scaling: 'pixel-centre' }).array()) as number[][];
    const exact = (await scaleIntrinsics(K, 8, { scaling: 'pooled' }).array()) as number[][];
    expect(formerName).toEqual(exact);
    expect(() => scaleIntrinsics(K, 8, { scaling: 'centre' as 'pooled' })).toThrow(
      /^scaling: expected 'strided' or 'pooled', got "centre"/,
    );
    // Pooled feature 0 of the 1/8 map covers full-res pixels 0..7, centred at 3.5: the principal point
    // 319.5 is full-res pixel 319.5 -> (319.5 + 0.5)/8 - 0.5 = 39.5.
    expect(exact[0][2]).toBeCloseTo(39.5, 5);
    expect(exact[1][2]).toBeCloseTo(29.5, 5);
  });

  it('rejects bad intrinsics with the argument named', () => {
    expect(() =>
      checkIntrinsics([
        [1, 0],
        [0, 1],
      ]),
    ).toThrow(/intrinsics: expected shape \[3,3\]/);
    expect(() =>
      checkIntrinsics([
        [0, 0, 1],
        [0, 5, 1],
        [0, 0, 1],
      ]),
    ).toThrow(/singular/);
    expect(() =>
      checkIntrinsics([
        [NaN, 0, 1],
        [0, 5, 1],
        [0, 0, 1],
      ]),
    ).toThrow(/non-finite/);
    expect(() =>
      checkIntrinsics([
        [5, 0, 1],
        [0, 5, 1],
        [0, 1, 1],
      ]),
    ).toThrow(/pinhole/);
    expect(() => scaleIntrinsics(K, 0)).toThrow(/stride/);
  });
});

describe('poses', () => {
  it('relativePose = inv(c2w_nbr)·c2w_ref maps reference-camera points to neighbour-camera points', async () => {
    const c2wRef = rigid(0.1, -0.2, 0.05, [0.3, -0.1, 1.2]);
    const c2wNbr = rigid(-0.05, 0.15, 0.2, [0.1, 0.2, 0.9]);
    const t = (await relativePose(c2wRef, c2wNbr).array()) as number[][];
    const pRef = [0.4, -0.3, 2.5, 1];
    const world = c2wRef.map((row) => row.reduce((s, v, k) => s + v * pRef[k], 0));
    // Solve c2wNbr·pNbr = world for pNbr using T: pNbr = T·pRef must satisfy it.
    const pNbr = t.map((row) => row.reduce((s, v, k) => s + v * pRef[k], 0));
    const back = c2wNbr.map((row) => row.reduce((s, v, k) => s + v * pNbr[k], 0));
    expectClose(back, world, { atol: 1e-5 });
  });

  it('rejects NaN, singular and non-homogeneous poses', () => {
    const nan = rigid(0, 0, 0, [Number.NaN, 0, 0]);
    expect(() => checkPoses(nan, 'poses[0]')).toThrow(/poses\[0\]: non-finite/);
    const singular = [
      [1, 0, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 1, 0],
      [0, 0, 0, 1],
    ];
    expect(() => checkPoses(singular)).toThrow(/singular/);
    expect(() =>
      checkPoses([
        [1, 0, 0, 0],
        [0, 1, 0, 0],
        [0, 0, 1, 0],
        [0, 0, 1, 1],
      ]),
    ).toThrow(/last row/);
    expect(() => relativePose(tf.zeros([2, 4, 4]), tf.eye(4))).toThrow(/cameraToWorldRef: last row/);
  });

  it('checks that batched cameras agree with the feature batch', () => {
    const k2 = tf.stack([tf.tensor2d(K), tf.tensor2d(K)]);
    expect(() => planeSweepProjection(k2, tf.eye(4), 3)).toThrow(/intrinsics: batch size 2 does not match/);
  });
});

describe('inverseDepthCandidates', () => {
  it('is uniform in inverse depth, far plane first', async () => {
    const c = await inverseDepthCandidates(0.5, 10, 5).data();
    expectClose(c, [0.1, 0.575, 1.05, 1.525, 2.0], { atol: 1e-6 });
    expect(Array.from(await inverseDepthCandidates(1, 2, 1).data())).toEqual([0.5]);
  });

  it('has the paper preset, whose planes crowd near the camera', async () => {
    const { near, far, count } = DEPTH_PRESETS.nyuv2Paper;
    const c = await inverseDepthCandidates(near, far, count).data();
    expect(c.length).toBe(128);
    expect(1 / c[0]).toBeCloseTo(10, 4);
    // The second plane is already at ~1.27 cm.
    expect(1 / c[1]).toBeCloseTo(0.0127, 4);
    expect(1 / c[127]).toBeCloseTo(1e-4, 8);
  });

  it('rejects bad ranges', () => {
    expect(() => inverseDepthCandidates(2, 1, 8)).toThrow(/near \(2\) must be < far \(1\)/);
    expect(() => inverseDepthCandidates(1, 1, 8)).toThrow(/must be < far/);
    expect(() => inverseDepthCandidates(0, 1, 8)).toThrow(/near: must be a finite number > 0/);
    expect(() => inverseDepthCandidates(-1, 1, 8)).toThrow(/near/);
    expect(() => inverseDepthCandidates(0.5, Number.POSITIVE_INFINITY, 8)).toThrow(/far: must be finite/);
    expect(() => inverseDepthCandidates(0.5, 10, 0)).toThrow(/count/);
    expect(() => inverseDepthCandidates(0.5, 10, 2.5)).toThrow(/count/);
  });
});
