import * as tf from '@tensorflow/tfjs-core';
import { registerCpuTrainingKernels } from './cpu/conv2d-backprop-filter.js';
import { registerCpuXnnpackBackend } from './cpu-xnnpack/cpu-xnnpack-backend.js';
import { initNodeWebGPU } from './node-webgpu.js';
import { registerWasmBackend, wasmThreadsCount } from './wasm/wasm-backend.js';
import { registerWebGPUKernelFixes } from './webgpu/add-n.js';
import { describeAdapter } from './webgpu-adapter.js';

/** Backends cvm knows how to bring up, in the names tfjs registers them under. */
export type BackendName = 'tensorflow' | 'webgpu' | 'webgl' | 'wasm' | 'cpu-xnnpack' | 'cpu';

/** Every name `selectBackend` accepts. */
export const KNOWN_BACKENDS: readonly BackendName[] = [
  'tensorflow',
  'webgpu',
  'webgl',
  'wasm',
  'cpu-xnnpack',
  'cpu',
];

/**
 * The order used when none is given: native TensorFlow (tfjs-node / tfjs-node-gpu) when installed,
 * WebGPU on a real GPU only, tfjs-backend-wasm (XNNPACK, SIMD, threads), then the pure-JS cpu backend.
 * 'cpu-xnnpack' (cpu's tensors, XNNPACK's products and convolutions) is chosen by name, for models
 * that do not fit wasm's 4 GiB heap.
 */
export const DEFAULT_BACKEND_ORDER: readonly BackendName[] = ['tensorflow', 'webgpu', 'wasm', 'cpu'];

export interface SelectBackendOptions {
  /** Threads for the wasm backend (default: every core, at most 8). */
  threads?: number;
  /** Browser only: the URL prefix the wasm backend's `.wasm` binaries are served from (tfjs's `setWasmPaths`). */
  wasmPaths?: string;
  /**
   * Accept a WebGPU adapter that is a software rasteriser on the CPU (SwiftShader, llvmpipe, …),
   * which is slower than wasm. Default: false with the default order, true when an order is given
   * (naming 'webgpu' explicitly asks for it, as tests on SwiftShader do).
   */
  softwareWebGPU?: boolean;
}

/** The backend `selectBackend` activated, and why the ones before it were passed over. */
export interface BackendChoice {
  name: BackendName;
  /** One line on why this backend was chosen, for logs. */
  why: string;
  /** Backends tried before it, each with the reason it could not be used. */
  skipped: { name: BackendName; reason: string }[];
}

const isNode = typeof (globalThis as { process?: NodeJS.Process }).process?.versions?.node === 'string';

/** Imports a package; resolves to the error message when it cannot be loaded, undefined on success. */
async function importOptional(name: string): Promise<string | undefined> {
  try {
    await import(/* @vite-ignore */ name);
    return undefined;
  } catch (err) {
    return `import('${name}') failed: ${errorMessage(err)}`;
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0]! : String(err);
}

/** Makes the backend's factory known to tfjs (imports its package); the reason when it cannot be had here. */
async function register(
  name: BackendName,
  options: SelectBackendOptions & Required<Omit<SelectBackendOptions, 'wasmPaths'>>,
): Promise<string | undefined> {
  if (name === 'webgpu') {
    const probe = await initNodeWebGPU();
    if (!probe.available) return probe.reason ?? 'no WebGPU adapter';
    if (probe.software && !options.softwareWebGPU) {
      return `the adapter ${describeAdapter(probe.info ?? {})} is a software rasteriser on the CPU (slower than wasm; pass softwareWebGPU: true to use it)`;
    }
    const failure = tf.findBackendFactory('webgpu')
      ? undefined
      : await importOptional('@tensorflow/tfjs-backend-webgpu');
    if (failure === undefined) registerWebGPUKernelFixes();
    return failure;
  }
  if (name === 'wasm') {
    // registerWasmBackend imports tfjs-backend-wasm by a literal specifier, which bundlers resolve
    // (a computed one, as importOptional's, only resolves in Node).
    try {
      await registerWasmBackend({
        ...(options.threads > 0 ? { threads: options.threads } : {}),
        ...(options.wasmPaths !== undefined ? { wasmPaths: options.wasmPaths } : {}),
      });
    } catch (err) {
      return `wasm backend unavailable: ${errorMessage(err)}`;
    }
  }
  if (name === 'cpu-xnnpack') {
    try {
      await registerCpuXnnpackBackend(options.threads > 0 ? { threads: options.threads } : {});
    } catch (err) {
      return `cpu-xnnpack unavailable: ${errorMessage(err)}`;
    }
    return undefined;
  }
  if (name === 'cpu') {
    const failure = tf.findBackendFactory('cpu')
      ? undefined
      : await importOptional('@tensorflow/tfjs-backend-cpu');
    if (failure === undefined) registerCpuTrainingKernels();
    return failure;
  }
  if (tf.findBackendFactory(name)) return undefined;
  switch (name) {
    case 'tensorflow': {
      // tfjs-node downloads libtensorflow at install time and fails offline; it is optional everywhere.
      if (!isNode) return 'tfjs-node runs only in Node';
      const gpu = await importOptional('@tensorflow/tfjs-node-gpu');
      if (!gpu) return undefined;
      const cpu = await importOptional('@tensorflow/tfjs-node');
      return cpu && `${gpu}; ${cpu}`;
    }
    case 'webgl':
      if (isNode) return 'WebGL needs a browser';
      return importOptional('@tensorflow/tfjs-backend-webgl');
    case 'wasm':
      return importOptional('@tensorflow/tfjs-backend-wasm');
  }
}

/**
 * `tf.setBackend` resolves false when a factory throws and only logs the error; this runs the
 * factory under a wrapper that keeps the error, so the caller can say why.
 */
async function activate(name: BackendName): Promise<string | undefined> {
  const engine = tf.engine();
  const entry = engine.registryFactory[name];
  if (!entry || name in engine.registry) {
    return (await tf.setBackend(name)) ? undefined : `tf.setBackend('${name}') resolved false`;
  }
  let failure: unknown;
  tf.removeBackend(name);
  tf.registerBackend(
    name,
    async () => {
      try {
        return await entry.factory();
      } catch (err) {
        failure = err;
        throw err;
      }
    },
    entry.priority,
  );
  let ok = false;
  try {
    ok = await tf.setBackend(name);
  } finally {
    // Put the original factory back; an initialised instance stays in the engine's registry.
    engine.registryFactory[name] = entry;
  }
  if (ok) return undefined;
  return failure === undefined
    ? `tf.setBackend('${name}') resolved false`
    : `initialisation failed: ${errorMessage(failure)}`;
}

/** Why a browser page got one wasm thread when more were asked for (or are the default). */
function singleThreadReason(requested: number): string {
  if (isNode || requested === 1) return '';
  const page = globalThis as { crossOriginIsolated?: boolean };
  return page.crossOriginIsolated === false
    ? ' — threads need SharedArrayBuffer, and this page is not cross-origin isolated (serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)'
    : '';
}

/** What the activated backend runs on, for the `why` line. */
async function describe(name: BackendName, options: { threads: number }): Promise<string> {
  switch (name) {
    case 'tensorflow':
      return 'native TensorFlow (tfjs-node)';
    case 'webgpu': {
      const probe = await initNodeWebGPU();
      return `WebGPU on ${describeAdapter(probe.info ?? {})}`;
    }
    case 'wasm': {
      const threads = await wasmThreadsCount();
      return `tfjs-backend-wasm (XNNPACK, ${(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) ? 'SIMD' : 'no SIMD'}, ${threads} thread(s))${threads === 1 ? singleThreadReason(options.threads) : ''}`;
    }
    case 'webgl':
      return 'WebGL';
    case 'cpu-xnnpack':
      return `tensors in JS memory, matrix products and convolutions on XNNPACK (${await wasmThreadsCount()} thread(s))`;
    case 'cpu':
      return 'the pure-JS cpu backend';
  }
}

/**
 * Activates the first backend of `order` that registers and initialises, and says which and why.
 * Unknown names are an error (listing the known ones); when none can be activated the error gives
 * each backend's reason.
 */
export async function selectBackend(
  order?: readonly BackendName[],
  options: SelectBackendOptions = {},
): Promise<BackendChoice> {
  const opts = {
    ...options,
    threads: options.threads ?? 0,
    softwareWebGPU: options.softwareWebGPU ?? order !== undefined,
  };
  order ??= DEFAULT_BACKEND_ORDER;
  const unknown = order.filter((n) => !KNOWN_BACKENDS.includes(n));
  if (unknown.length > 0) {
    throw new Error(
      `selectBackend: unknown backend ${unknown.map((n) => `'${n}'`).join(', ')}; ` +
        `known backends: ${KNOWN_BACKENDS.join(', ')}`,
    );
  }
  if (order.length === 0) throw new Error('selectBackend: the order is empty');
  const skipped: BackendChoice['skipped'] = [];
  for (const name of order) {
    const reason = (await register(name, opts)) ?? (await activate(name));
    if (reason === undefined) {
      const before = skipped.map((s) => `${s.name}: ${s.reason}`).join('; ');
      const rank = skipped.length === 0 ? 'first in the order' : `earlier choices unavailable (${before})`;
      return { name, why: `${name}: ${await describe(name, opts)}; ${rank}`, skipped };
    }
    skipped.push({ name, reason });
  }
  throw new Error(
    `No tfjs backend could be activated (${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')})`,
  );
}
