import * as tf from '@tensorflow/tfjs-core';
import { initNodeWebGPU } from './node-webgpu.js';

/**
 * For test files that exercise WebGPU kernels: brings up tfjs's webgpu backend (Dawn in Node) and
 * returns whether the tests should run. Under `CI=true` a missing adapter is an error, never a skip,
 * so CI cannot go green without really running them.
 */
export async function useWebGPUForTests(): Promise<boolean> {
  const result = await initNodeWebGPU();
  if (result.available) {
    await import(/* @vite-ignore */ '@tensorflow/tfjs-backend-webgpu');
    if (await tf.setBackend('webgpu')) return true;
    result.reason = 'tf.setBackend("webgpu") resolved false';
  }
  const message = `WebGPU is not available: ${result.reason}`;
  if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(`${message} (CI requires it)`);
  console.warn(`${message}; skipping WebGPU tests`);
  return false;
}
