import '@tensorflow/tfjs-backend-cpu';
import { expectErrorWithoutLeaks, SMALL_BASELINE_POSE, SMALL_INTRINSICS } from '@cvm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import {
  type MatrixInput,
  checkIntrinsics,
  depthToNormals,
  depthToPoints,
  inverseDepthCandidates,
  invertIntrinsics,
  planeSweepCoordinates,
  planeSweepCoordinatesFromProjection,
  planeSweepProjection,
  projectReferencePixels,
  relativePose,
  scaleIntrinsics,
  warpByDepth,
} from '../src/index.js';

const K = SMALL_INTRINSICS;
const T = SMALL_BASELINE_POSE;

let image: tf.Tensor4D;
let depth: tf.Tensor4D;

beforeAll(async () => {
  await tf.setBackend('cpu');
  image = tf.ones([1, 4, 5, 3]);
  depth = tf.fill([1, 4, 5, 1], 2) as tf.Tensor4D;
});

afterAll(() => tf.dispose([image, depth]));

const expectError = expectErrorWithoutLeaks;

describe('matrix arguments', () => {
  it('refuse strings instead of recursing into them', () => {
    expectError(
      () => relativePose('eye' as unknown as MatrixInput, T),
      /^cameraToWorldRef: expected a tensor, numbers or nested arrays of numbers, got the string "eye"/,
    );
    expectError(
      () => relativePose(T, [['1', '0', '0', '0'], ...T.slice(1)] as unknown as MatrixInput),
      /^cameraToWorldNbr: expected a tensor, numbers or nested arrays .*string "1"/,
    );
    expectError(() => checkIntrinsics(null as unknown as MatrixInput), /^intrinsics: .* got null/);
    expectError(() => checkIntrinsics({} as unknown as MatrixInput), /^intrinsics: .* got Object/);
    expectError(() => checkIntrinsics([[[[K]]]] as unknown as MatrixInput), /^intrinsics: nested deeper/);
  });

  it('refuse NaN poses, singular intrinsics and wrong shapes, naming the argument', () => {
    const nan = T.map((r, i) => (i === 1 ? [0, 1, 0, Number.NaN] : r));
    expectError(() => relativePose(T, nan), /^cameraToWorldNbr: non-finite value NaN/);
    const singular = [
      [6, 0, 3.5],
      [0, 0, 2.5],
      [0, 0, 1],
    ];
    expectError(() => invertIntrinsics(singular), /^intrinsics: singular or flipped/);
    expectError(() => scaleIntrinsics(K, 0), /^stride: must be a positive number/);
    expectError(() => relativePose(K, T), /^cameraToWorldRef: expected shape \[4,4\]/);
  });

  it('refuse a disposed tensor', () => {
    const t = tf.tensor2d(T);
    t.dispose();
    expectError(() => relativePose(t, T), /^cameraToWorldRef: the tensor is disposed/);
  });
});

describe('planeSweepCoordinates', () => {
  it('refuses sizes that are not integers >= 1', () => {
    const inv = [0.5, 1];
    expectError(() => planeSweepCoordinates(K, T, inv, -3, 4), /^height: must be an integer >= 1, got -3/);
    expectError(() => planeSweepCoordinates(K, T, inv, 3, 0), /^width: must be an integer >= 1, got 0/);
    expectError(() => planeSweepCoordinates(K, T, inv, 3, 2.5), /^width: must be an integer >= 1/);
    expectError(() => planeSweepCoordinates(K, T, inv, 3, 4, 0), /^batch: must be an integer >= 1/);
  });

  it('refuses inverse depths that are 0, negative or not finite (arrays are checked)', () => {
    for (const bad of [0, -0.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expectError(
        () => planeSweepCoordinates(K, T, [0.5, bad], 3, 4),
        /^inverseDepths: every inverse depth must be finite and > 0, got .* at index 1/,
      );
    }
    expectError(
      () => planeSweepCoordinates(K, T, [], 3, 4),
      /^inverseDepths: expected \[L\] or \[1,L\] with L >= 1/,
    );
    const rank3 = tf.ones([1, 2, 2]);
    expectError(() => planeSweepCoordinates(K, T, rank3, 3, 4), /^inverseDepths: expected \[L\] or \[1,L\]/);
    const wrongBatch = tf.ones([3, 2]);
    expectError(
      () => planeSweepCoordinates(K, T, wrongBatch, 3, 4, 2),
      /^inverseDepths: expected \[L\] or \[2,L\]/,
    );
    tf.dispose([rank3, wrongBatch]);
  });

  it('checks the tensors of the lower-level helpers', () => {
    const bad = tf.ones([1, 9]);
    const inv = tf.ones([1, 2]) as tf.Tensor2D;
    const depth4 = tf.ones([1, 2, 1, 1]) as tf.Tensor4D;
    const rank1 = tf.ones([2]) as unknown as tf.Tensor2D;
    expectError(() => planeSweepCoordinatesFromProjection(bad, inv, 3, 4), /^projection: expected \[B,12\]/);
    const proj = tf.tensor2d(planeSweepProjection(K, T, 1).data, [1, 12]);
    expectError(() => projectReferencePixels(proj, depth4, -1, 4), /^height: must be an integer >= 1/);
    expectError(
      () => planeSweepCoordinatesFromProjection(proj, rank1, 3, 4),
      /^inverseDepths: expected \[B,L\]/,
    );
    expectError(() => planeSweepProjection(K, T, -1), /^batch: must be an integer >= 1/);
    tf.dispose([bad, inv, depth4, proj, rank1]);
  });

  it('candidates: near >= far and bad counts are refused', () => {
    expectError(() => inverseDepthCandidates(10, 0.5, 8), /^near \(10\) must be < far \(0.5\)/);
    expectError(() => inverseDepthCandidates(0, 10, 8), /^near: must be a finite number > 0/);
    expectError(() => inverseDepthCandidates(0.5, 10, 0), /^count: must be an integer >= 1/);
  });
});

describe('depth functions', () => {
  it('depthToPoints / depthToNormals refuse a non-tensor depth, naming it', () => {
    expectError(() => depthToPoints([1, 2, 3] as unknown as tf.Tensor, K), /^depth: expected a tf.Tensor/);
    expectError(() => depthToNormals([1, 2, 3] as unknown as tf.Tensor, K), /^depth: expected a tf.Tensor/);
    const rank3 = tf.ones([4, 5, 1]);
    expectError(() => depthToPoints(rank3, K), /^depth: expected \[B,H,W,1\]/);
    const ints = tf.ones([1, 4, 5, 1], 'int32');
    expectError(() => depthToPoints(ints, K), /^depth: expected float32/);
    expectError(() => depthToPoints(depth, [K, K]), /^intrinsics: batch size 2 does not match/);
    tf.dispose([rank3, ints]);
  });

  it('warpByDepth refuses an int32 depth or image and non-tensors', () => {
    const intDepth = tf.ones([1, 4, 5, 1], 'int32');
    expectError(() => warpByDepth(image, intDepth, T, K), /^referenceDepth: expected float32, got int32/);
    const intImage = tf.ones([1, 4, 5, 3], 'int32');
    expectError(() => warpByDepth(intImage, depth, T, K), /^neighbourImage: expected float32, got int32/);
    expectError(
      () => warpByDepth(image, [2, 2] as unknown as tf.Tensor, T, K),
      /^referenceDepth: expected a tf.Tensor/,
    );
    expectError(
      () => warpByDepth(image, depth, 'eye' as unknown as MatrixInput, K),
      /^pose: expected a tensor/,
    );
    tf.dispose([intDepth, intImage]);
  });
});
