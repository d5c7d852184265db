import * as tf from '@tensorflow/tfjs-core';
import { initNodeWebGPU } from './node-webgpu.js';
import { registerWebGPUKernelFixes } from './webgpu/add-n.js';

const requiredInCI = () => process.env.CI === 'true' || process.env.CI === '1';

/**
 * For tests that need a WebGPU adapter but not tfjs's webgpu backend: installs Dawn's `navigator.gpu`
 * (in Node) and says whether an adapter is there. Under `CI=true` a missing adapter is an error, so CI
 * cannot go green without really running the tests; elsewhere it warns and returns false, and the
 * caller skips (`ctx.skip()`, `it.runIf`), so the tests show as skipped rather than passed.
 */
export async function hasWebGPUForTests(): Promise<boolean> {
  const result = await initNodeWebGPU();
  if (result.available) return true;
  return webGPUMissing(result.reason);
}

/**
 * For test files that exercise WebGPU kernels: brings up tfjs's webgpu backend (Dawn in Node) and
 * returns whether the tests should run, with the same CI rule as {@link hasWebGPUForTests}.
 */
export async function useWebGPUForTests(): Promise<boolean> {
  if (!(await hasWebGPUForTests())) return false;
  await import(/* @vite-ignore */ '@tensorflow/tfjs-backend-webgpu');
  registerWebGPUKernelFixes();
  if (await tf.setBackend('webgpu')) return true;
  return webGPUMissing('tf.setBackend("webgpu") resolved false');
}

function webGPUMissing(reason: string | undefined): false {
  const message = `WebGPU is not available: ${reason}`;
  if (requiredInCI()) throw new Error(`${message} (CI requires it)`);
  console.warn(`${message}; skipping WebGPU tests`);
  return false;
}
