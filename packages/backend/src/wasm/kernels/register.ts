import * as tf from '@tensorflow/tfjs-core';
import { batchMatMulConfig } from './batch-mat-mul.js';
import { conv2DBackpropFilterConfig } from './conv2d-backprop-filter.js';
import { conv2DBackpropInputConfig } from './conv2d-backprop-input.js';
import { sliceConfigs } from './slice.js';
import { tileIdentityConfigs } from './tile-identity.js';

let registered = false;

/** Replaces (or adds) tfjs-backend-wasm's kernels that training needs; idempotent. */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  registered = true;
  for (const config of [
    batchMatMulConfig(),
    conv2DBackpropFilterConfig,
    conv2DBackpropInputConfig,
    ...sliceConfigs(),
    ...tileIdentityConfigs(),
  ]) {
    if (tf.getKernel(config.kernelName, 'wasm')) tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel(config);
  }
}
