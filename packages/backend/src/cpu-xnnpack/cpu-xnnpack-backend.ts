/**
 * 'cpu-xnnpack': tfjs's cpu backend (tensors in JS memory, bounded by the machine's RAM) whose matrix
 * products and convolutions, forward and backward, run on the wasm backend's XNNPACK. It trains
 * models whose state or activations do not fit the 4 GiB wasm32 heap (ViT-L, the paper's 448×576
 * step) at close to wasm's speed for the heavy kernels; unary element-wise kernels run as cpu's JS loops.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { registerCpuTrainingKernels } from '../cpu/conv2d-backprop-filter.js';
import { type WasmBackendOptions, registerWasmBackend } from '../wasm/wasm-backend.js';
import { unfusedKernel } from './fused.js';
import { offloadToWasm } from './offload.js';

export const CPU_XNNPACK = 'cpu-xnnpack';

/**
 * Kernels run on the wasm heap. Matrix products and convolutions (forward and backward, with cvm's
 * training kernels, `registerWasmTrainingKernels`; the fused ones as the product on the heap, then
 * the bias and activation) beat cpu's JS loops by 10–30×; slicing, transposes, padding, tiling,
 * broadcast arithmetic and reductions by enough to pay for the copies (cpu indexes every element of
 * a strided or broadcast operand). Measured on one training step of the default small CvM model at
 * 64×96 (2 threads): 3.36 s with the first group alone, 1.21 s with both, against 1.01 s on wasm. The
 * rest (unary maths, gathers, the fused cost volume) runs as cpu's kernels, and so does any call
 * `heapCanRun` turns down (not float32, empty, rank above 6, operands over 3 GiB).
 */
export const OFFLOADED_KERNELS: readonly string[] = [
  tf.BatchMatMul,
  tf._FusedMatMul,
  tf.Conv2D,
  tf.FusedConv2D,
  tf.Conv2DBackpropInput,
  tf.Conv2DBackpropFilter,
  tf.DepthwiseConv2dNative,
  tf.Slice,
  tf.SplitV,
  tf.Transpose,
  tf.PadV2,
  tf.Tile,
  tf.Add,
  tf.Sub,
  tf.Multiply,
  tf.RealDiv,
  tf.Sum,
  tf.Mean,
];

/** The wasm backend instance the offloaded kernels run on (the engine's, set up by `setBackend`). */
let heapBackend: BackendWasm | undefined;

function wasmBackend(): BackendWasm {
  if (!heapBackend || tf.engine().registry.wasm !== heapBackend) {
    throw new Error(
      'cpu-xnnpack: the wasm backend it runs XNNPACK on was removed; call registerCpuXnnpackBackend() again',
    );
  }
  return heapBackend;
}

/** The cpu kernel function each cpu-xnnpack kernel was made from (to refresh replaced ones). */
const copiedFrom = new Map<string, tf.KernelFunc>();

/** cpu-xnnpack's kernel for one of cpu's. */
function kernelFor(config: tf.KernelConfig): tf.KernelFunc {
  switch (config.kernelName) {
    case tf._FusedMatMul:
      return unfusedKernel(CPU_XNNPACK, tf.BatchMatMul, ['a', 'b'], config.kernelFunc);
    case tf.FusedConv2D:
      return unfusedKernel(CPU_XNNPACK, tf.Conv2D, ['x', 'filter'], config.kernelFunc);
    default:
      return OFFLOADED_KERNELS.includes(config.kernelName)
        ? offloadToWasm(config.kernelName, wasmBackend, config.kernelFunc)
        : config.kernelFunc;
  }
}

/**
 * Gives 'cpu-xnnpack' every kernel registered for 'cpu' at this moment (tfjs's and those of packages
 * imported so far, such as cvm's cost volume and grid sampling), with {@link OFFLOADED_KERNELS} on
 * XNNPACK; a cpu kernel replaced since the last call is taken again. Runs when the backend is
 * created; call it again after importing a package that registers cpu kernels later.
 */
export function syncCpuXnnpackKernels(): void {
  for (const config of tf.getKernelsForBackend('cpu')) {
    if (copiedFrom.get(config.kernelName) === config.kernelFunc) continue;
    if (tf.getKernel(config.kernelName, CPU_XNNPACK)) tf.unregisterKernel(config.kernelName, CPU_XNNPACK);
    tf.registerKernel({ ...config, backendName: CPU_XNNPACK, kernelFunc: kernelFor(config) });
    copiedFrom.set(config.kernelName, config.kernelFunc);
  }
}

/** The registration in progress, shared by concurrent callers (two wasm inits would cancel one). */
let registering: Promise<void> | undefined;

/**
 * Registers the 'cpu-xnnpack' backend (tfjs-backend-cpu and tfjs-backend-wasm must be installed):
 * brings up the wasm backend (`registerWasmBackend`, with `options`) once so that its kernels are
 * bound, then makes the backend that was active before active again (with none before, wasm stays
 * active). Select it with `tf.setBackend('cpu-xnnpack')` or `selectBackend(['cpu-xnnpack'])`.
 * Idempotent; concurrent calls share one registration.
 */
export function registerCpuXnnpackBackend(options: WasmBackendOptions = {}): Promise<void> {
  registering ??= register(options).finally(() => {
    registering = undefined;
  });
  return registering;
}

async function register(options: WasmBackendOptions): Promise<void> {
  const { MathBackendCPU } = await import('@tensorflow/tfjs-backend-cpu');
  registerCpuTrainingKernels();
  await registerWasmBackend(options);
  const engine = tf.engine();
  if (!heapBackend || engine.registry.wasm !== heapBackend) {
    const previous = (engine as unknown as { backendName: string | null }).backendName;
    // setBackend runs the wasm kernels' setup (binding their C functions to this instance).
    if (!(await tf.setBackend('wasm'))) throw new Error('cpu-xnnpack: the wasm backend failed to initialise');
    heapBackend = tf.backend() as BackendWasm;
    if (previous && previous !== 'wasm') await tf.setBackend(previous);
  }
  if (tf.findBackendFactory(CPU_XNNPACK)) return;
  tf.registerBackend(
    CPU_XNNPACK,
    () => {
      syncCpuXnnpackKernels();
      return new MathBackendCPU();
    },
    0,
  );
}

/** Bytes of the wasm heap behind 'cpu-xnnpack' (its high-water mark: wasm memory never shrinks). */
export function cpuXnnpackHeapBytes(): number {
  return heapBackend ? (heapBackend as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length : 0;
}
