import '@tensorflow/tfjs-backend-cpu';
import { expectErrorWithoutLeaks, SMALL_BASELINE_POSE, SMALL_INTRINSICS } from '@cvm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COST_VOLUME, type CostVolumeOptions, costVolume } from '../src/index.js';

const K = SMALL_INTRINSICS;
const T = SMALL_BASELINE_POSE;

let ref: tf.Tensor4D;
let nbr: tf.Tensor4D;
const good = (): CostVolumeOptions => ({ intrinsics: K, poses: [T], inverseDepths: [0.1, 0.5, 1] });

beforeAll(async () => {
  await tf.setBackend('cpu');
  ref = tf.ones([2, 4, 6, 3]);
  nbr = tf.ones([2, 4, 6, 3]);
});

afterAll(() => tf.dispose([ref, nbr]));

const expectError = expectErrorWithoutLeaks;

describe('costVolume argument errors', () => {
  it('accepts the good arguments', () => {
    tf.dispose(costVolume(ref, [nbr], good()));
  });

  it('reference', () => {
    expectError(
      () => costVolume([1, 2] as unknown as tf.Tensor4D, [nbr], good()),
      /^reference: expected a tf.Tensor/,
    );
    const r3 = tf.ones([4, 6, 3]);
    expectError(() => costVolume(r3 as tf.Tensor4D, [nbr], good()), /^reference: expected rank 4/);
    const int = tf.ones([2, 4, 6, 3], 'int32');
    expectError(() => costVolume(int as tf.Tensor4D, [nbr], good()), /^reference: expected float32/);
    const thin = tf.ones([2, 1, 6, 3]);
    expectError(
      () => costVolume(thin as tf.Tensor4D, [thin as tf.Tensor4D], good()),
      /^reference: height and width must be >= 2/,
    );
    tf.dispose([r3, int, thin]);
  });

  it('neighbours', () => {
    expectError(() => costVolume(ref, [], good()), /^neighbours: at least one neighbour/);
    expectError(
      () => costVolume(ref, nbr as unknown as tf.Tensor4D[], good()),
      /^neighbours: expected an array/,
    );
    const bad = [tf.ones([2, 4, 6, 5]), tf.ones([1, 4, 6, 3]), tf.ones([2, 4, 5, 3]), tf.ones([4, 6, 3])];
    const o = { ...good(), poses: [T, T] };
    expectError(
      () => costVolume(ref, [nbr, bad[0] as tf.Tensor4D], o),
      /^neighbours\[1\]: 5 channels, but reference has 3/,
    );
    expectError(
      () => costVolume(ref, [nbr, bad[1] as tf.Tensor4D], o),
      /^neighbours\[1\]: batch size 1 does not match reference \(2\)/,
    );
    expectError(
      () => costVolume(ref, [nbr, bad[2] as tf.Tensor4D], o),
      /^neighbours\[1\]: size 4x5 does not match reference \(4x6\)/,
    );
    expectError(() => costVolume(ref, [bad[3] as tf.Tensor4D], good()), /^neighbours\[0\]: expected rank 4/);
    tf.dispose(bad);
  });

  it('poses', () => {
    expectError(() => costVolume(ref, [nbr, nbr], good()), /^poses: 1 poses for 2 neighbours/);
    expectError(() => costVolume(ref, [nbr], { ...good(), poses: [] }), /^poses: 0 poses for 1 neighbours/);
    const nan = T.map((r, i) => (i === 0 ? [r[0], r[1], Number.NaN, r[3]] : r));
    expectError(
      () => costVolume(ref, [nbr], { ...good(), poses: [nan] }),
      /^poses\[0\]: non-finite value NaN/,
    );
    const singular = [
      [1, 0, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 1, 0],
      [0, 0, 0, 1],
    ];
    expectError(
      () => costVolume(ref, [nbr, nbr], { ...good(), poses: [T, singular] }),
      /^poses\[1\]: singular rotation block/,
    );
    expectError(
      () => costVolume(ref, [nbr], { ...good(), poses: [[[1, 0, 0]]] }),
      /^poses\[0\]: expected shape \[4,4\]/,
    );
    expectError(
      () => costVolume(ref, [nbr], { ...good(), poses: [[T, T, T]] }),
      /^poses\[0\]: batch size 3 does not match reference \(2\)/,
    );
    expectError(
      () => costVolume(ref, [nbr], { ...good(), poses: undefined as unknown as number[][][] }),
      /^poses: expected an array/,
    );
  });

  it('intrinsics', () => {
    const o = (intrinsics: CostVolumeOptions['intrinsics']) => ({ ...good(), intrinsics });
    expectError(
      () => costVolume(ref, [nbr], o([[6, 0, Number.POSITIVE_INFINITY], K[1], K[2]])),
      /^intrinsics: non-finite value Infinity/,
    );
    expectError(
      () => costVolume(ref, [nbr], o([[0, 0, 3.5], K[1], K[2]])),
      /^intrinsics: singular or flipped intrinsics/,
    );
    expectError(() => costVolume(ref, [nbr], o([K[0], K[1]])), /^intrinsics: expected shape \[3,3\]/);
    expectError(
      () => costVolume(ref, [nbr], o([K, K, K])),
      /^intrinsics: batch size 3 does not match reference \(2\)/,
    );
    expectError(() => costVolume(ref, [nbr], o(undefined as unknown as number[][])), /^intrinsics: required/);
    expectError(
      () => costVolume(ref, [nbr], o({ reference: K, neighbours: [K, K] })),
      /^intrinsics.neighbours: 2 matrices for 1 neighbours/,
    );
    expectError(
      () =>
        costVolume(ref, [nbr, nbr], {
          ...o({
            reference: K,
            neighbours: [
              K,
              [
                [6, 0, 1],
                [0, -6, 1],
                [0, 0, 1],
              ],
            ],
          }),
          poses: [T, T],
        }),
      /^intrinsics.neighbours\[1\]: singular or flipped intrinsics/,
    );
    expectError(
      () => costVolume(ref, [nbr], o({ reference: [[1, 2]], neighbours: [K] })),
      /^intrinsics.reference: expected shape/,
    );
    expectError(
      () => costVolume(ref, [nbr], o({ reference: K, neighbours: [[K, K, K]] })),
      /^intrinsics.neighbours\[0\]: batch size 3/,
    );
  });

  it('inverseDepths', () => {
    const o = (inverseDepths: CostVolumeOptions['inverseDepths']) => ({ ...good(), inverseDepths });
    const msg = /^inverseDepths: every inverse depth must be finite and > 0/;
    expectError(() => costVolume(ref, [nbr], o([0.1, 0, 1])), msg);
    expectError(() => costVolume(ref, [nbr], o([0.1, -0.5])), msg);
    expectError(() => costVolume(ref, [nbr], o([Number.NaN])), msg);
    expectError(() => costVolume(ref, [nbr], o([Number.POSITIVE_INFINITY])), msg);
    const t = tf.tensor1d([0.5, -1], 'int32');
    expectError(() => costVolume(ref, [nbr], o(t)), /^inverseDepths: expected float32, got int32/);
    expectError(
      () => costVolume(ref, [nbr], o('0.5' as unknown as number[])),
      /^inverseDepths: expected a tensor/,
    );
    expectError(
      () => costVolume(ref, [nbr], o([])),
      /^inverseDepths: need at least one candidate \(L >= 1\)/,
    );
    const empty = tf.zeros([2, 0]);
    expectError(() => costVolume(ref, [nbr], o(empty)), /^inverseDepths: need at least one candidate/);
    expectError(
      () =>
        costVolume(
          ref,
          [nbr],
          o([
            [0.1, 0.2],
            [0.1, 0.2],
            [0.1, 0.2],
          ]),
        ),
      /^inverseDepths: batch size 3 does not match reference \(2\)/,
    );
    const rank3 = tf.ones([2, 2, 2]);
    expectError(() => costVolume(ref, [nbr], o(rank3)), /^inverseDepths: expected \[L\] or \[B,L\]/);
    tf.dispose([t, empty, rank3]);
  });

  it('tensor values are not read: a candidate that is not finite and > 0 gives a zero plane', async () => {
    const features = [
      tf.randomNormal([2, 4, 6, 3], 0, 1, 'float32', 1),
      tf.randomNormal([2, 4, 6, 3], 0, 1, 'float32', 2),
    ];
    const [r, n] = features as tf.Tensor4D[];
    const bad = [0, -0.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
    const mixed = tf.tensor1d([0.5, ...bad, 1]);
    for (const implementation of ['fused', 'composite'] as const) {
      const options = { ...good(), implementation };
      const got = costVolume(r, [n], { ...options, inverseDepths: mixed });
      const expected = costVolume(r, [n], { ...options, inverseDepths: [0.5, 1] });
      const planes = tf.unstack(got, 3);
      const exp = tf.unstack(expected, 3);
      expect(Array.from(await exp[0].data()).some((v) => v !== 0)).toBe(true);
      expect(Array.from(await planes[0].data())).toEqual(Array.from(await exp[0].data()));
      expect(Array.from(await planes[6].data())).toEqual(Array.from(await exp[1].data()));
      for (let l = 1; l <= bad.length; l++) {
        expect(
          Array.from(await planes[l].data()).every((v) => v === 0),
          `${implementation}: plane ${l}`,
        ).toBe(true);
      }
      tf.dispose([got, expected, ...planes, ...exp]);
    }
    tf.dispose([mixed, ...features]);
  });

  it('implementation and chunkSize', () => {
    expectError(
      () => costVolume(ref, [nbr], { ...good(), implementation: 'gpu' as 'auto' }),
      /^implementation: expected one of/,
    );
    for (const chunkSize of [0, 1.5, -2, Number.NaN]) {
      expectError(
        () => costVolume(ref, [nbr], { ...good(), chunkSize }),
        /^chunkSize: must be an integer >= 1/,
      );
    }
    expectError(
      () => costVolume(ref, [nbr], undefined as unknown as CostVolumeOptions),
      /^options: required/,
    );
  });

  it("implementation 'fused' without a kernel for the backend", () => {
    const config = tf.getKernel(COST_VOLUME, 'cpu');
    expect(config).toBeDefined();
    tf.unregisterKernel(COST_VOLUME, 'cpu');
    try {
      expectError(
        () => costVolume(ref, [nbr], { ...good(), implementation: 'fused' }),
        /^implementation: no fused 'CvmCostVolume' kernel is registered for backend 'cpu'/,
      );
      // 'auto' falls back to the composite.
      tf.dispose(costVolume(ref, [nbr], good()));
    } finally {
      tf.registerKernel(config!);
    }
  });
});
