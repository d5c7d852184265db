/**
 * AddN for tfjs-backend-webgpu that respects the device's storage-buffer limit.
 *
 * tfjs 4.22 binds every input of AddN (plus the output) as a storage buffer of one shader. A global
 * gradient norm (`@cvm/nn`'s `clipGradNorm`, as `clip_grad_norm_`) sums one term per parameter, so
 * training asks for far more than `maxStorageBuffersPerShaderStage` (8 on SwiftShader and by default
 * in browsers), and the pipeline fails validation ("The number of storage buffers (153) ... exceeds the maximum per-stage
 * limit (8)"). Here long sums are reduced in groups that fit, each group through tfjs's own kernel.
 */
import * as tf from '@tensorflow/tfjs-core';

interface WebGPUBackendLike {
  device: { limits: { maxStorageBuffersPerShaderStage: number } };
  disposeData(dataId: tf.DataId): boolean;
}

/** Inputs one AddN shader may take: every storage buffer but the output's. */
function inputsPerShader(backend: WebGPUBackendLike): number {
  return Math.max(2, backend.device.limits.maxStorageBuffersPerShaderStage - 1);
}

function chunkedAddN(stock: tf.KernelFunc): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const gpu = backend as WebGPUBackendLike;
    // tfjs passes AddN's inputs as an array of tensor infos.
    let level = inputs as unknown as tf.TensorInfo[];
    const limit = inputsPerShader(gpu);
    const partials: tf.TensorInfo[] = [];
    while (level.length > limit) {
      const next: tf.TensorInfo[] = [];
      for (let i = 0; i < level.length; i += limit) {
        const group = level.slice(i, i + limit);
        if (group.length === 1) {
          next.push(group[0] as tf.TensorInfo);
          continue;
        }
        const sum = stock({
          inputs: group as unknown as tf.NamedTensorInfoMap,
          backend,
          attrs,
        }) as tf.TensorInfo;
        partials.push(sum);
        next.push(sum);
      }
      level = next;
    }
    const result = stock({ inputs: level as unknown as tf.NamedTensorInfoMap, backend, attrs });
    for (const partial of partials) gpu.disposeData(partial.dataId);
    return result;
  };
}

let registered = false;

/**
 * Wraps the registered webgpu AddN (import `@tensorflow/tfjs-backend-webgpu` first) so sums of any
 * length run within the device's limits; idempotent. `selectBackend` calls it.
 */
export function registerWebGPUKernelFixes(): void {
  if (registered) return;
  const stock = tf.getKernel('AddN', 'webgpu');
  if (!stock) return;
  registered = true;
  tf.unregisterKernel('AddN', 'webgpu');
  tf.registerKernel({ ...stock, kernelFunc: chunkedAddN(stock.kernelFunc) });
}
