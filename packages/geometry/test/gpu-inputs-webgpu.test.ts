// WebGPU (Dawn in Node) must be set up before tfjs ops run on it.
import { useWebGPUForTests } from '@cvm/backend';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { expectClose, gpuResident, SMALL_INTRINSICS } from '@cvm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { depthToPoints, planeSweepCoordinates, relativePose, warpByDepth } from '../src/index.js';

// Top-level await: the suites below are skipped (locally, never under CI) without an adapter.
const available = await useWebGPUForTests();

afterAll(() => {
  // Dawn keeps the Node process alive while the device and navigator.gpu are referenced.
  if (tf.findBackend('webgpu')) tf.removeBackend('webgpu');
  delete (globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu;
});

const K = SMALL_INTRINSICS;
const T = [
  [1, 0, 0, 0.1],
  [0, 1, 0, 0],
  [0, 0, 1, 0.05],
  [0, 0, 0, 1],
];

const onGpu = gpuResident;

describe.runIf(available)('GPU-resident inputs on webgpu', () => {
  it('a camera matrix on the GPU gives an error naming it, never a ReferenceError', async () => {
    const pose = onGpu(T);
    const k = onGpu(K);
    expect(() => pose.dataSync()).toThrow(); // the premise: no synchronous read here
    expect(() => relativePose(pose, T)).toThrow(
      /^cameraToWorldRef: cannot read this tensor synchronously on backend 'webgpu' .*pass arrays/,
    );
    const depth = tf.fill([1, 5, 8, 1], 2);
    expect(() => depthToPoints(depth, k)).toThrow(/^intrinsics: cannot read this tensor synchronously/);
    // The remedy the message names.
    const rel = relativePose((await pose.array()) as number[][], T);
    expectClose(await rel.data(), tf.eye(4).dataSync(), { atol: 1e-6 });
    tf.dispose([pose, k, depth, rel]);
  });

  it('inverse depths and depth maps on the GPU are used where they are', async () => {
    const inv = onGpu([0.2, 0.5, 1]);
    const fromGpu = planeSweepCoordinates(K, T, inv, 5, 8);
    const fromArray = planeSweepCoordinates(K, T, [0.2, 0.5, 1], 5, 8);
    expectClose(await fromGpu.data(), await fromArray.data(), { atol: 1e-5 });
    const depth = onGpu(new Float32Array(40).fill(2), [1, 5, 8, 1]);
    const image = tf.randomUniform([1, 5, 8, 3], 0, 1, 'float32', 3);
    const warped = warpByDepth(image, depth, T, K);
    expect(warped.shape).toEqual([1, 5, 8, 3]);
    tf.dispose([inv, fromGpu, fromArray, depth, image, warped]);
  });
});
