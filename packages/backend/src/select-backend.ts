import * as tf from '@tensorflow/tfjs-core';
import { initNodeWebGPU } from './node-webgpu.js';

/** Backends cvm knows how to bring up, in the names tfjs registers them under. */
export type BackendName = 'tensorflow' | 'webgpu' | 'webgl' | 'wasm' | 'cpu';

/** The order used when none is given: native TensorFlow, then WebGPU, then the pure-JS cpu backend. */
export const DEFAULT_BACKEND_ORDER: readonly BackendName[] = ['tensorflow', 'webgpu', 'cpu'];

const isNode = typeof (globalThis as { process?: NodeJS.Process }).process?.versions?.node === 'string';

async function importOptional(name: string): Promise<boolean> {
  try {
    await import(/* @vite-ignore */ name);
    return true;
  } catch {
    return false;
  }
}

/** Makes the backend's factory known to tfjs (imports its package); false when it cannot be had here. */
async function register(name: BackendName): Promise<boolean> {
  if (tf.findBackendFactory(name)) return true;
  switch (name) {
    case 'tensorflow':
      // tfjs-node downloads libtensorflow at install time and fails offline; it is optional everywhere.
      if (!isNode) return false;
      return (
        (await importOptional('@tensorflow/tfjs-node-gpu')) || (await importOptional('@tensorflow/tfjs-node'))
      );
    case 'webgpu':
      if (isNode && !(await initNodeWebGPU()).available) return false;
      return importOptional('@tensorflow/tfjs-backend-webgpu');
    case 'webgl':
      return !isNode && (await importOptional('@tensorflow/tfjs-backend-webgl'));
    case 'wasm':
      return importOptional('@tensorflow/tfjs-backend-wasm');
    case 'cpu':
      return importOptional('@tensorflow/tfjs-backend-cpu');
  }
}

/**
 * Activates the first backend of `order` that registers and initialises, and returns its name.
 * `tf.setBackend` can resolve false (e.g. WebGPU without an adapter), so each is checked in turn.
 */
export async function selectBackend(
  order: readonly BackendName[] = DEFAULT_BACKEND_ORDER,
): Promise<BackendName> {
  const tried: string[] = [];
  for (const name of order) {
    if (!(await register(name)) || !tf.findBackendFactory(name)) {
      tried.push(`${name}: not available`);
      continue;
    }
    if (await tf.setBackend(name)) return name;
    tried.push(`${name}: failed to initialise`);
  }
  throw new Error(`No tfjs backend could be activated (${tried.join('; ')})`);
}
