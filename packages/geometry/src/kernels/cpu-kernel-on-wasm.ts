import * as tf from '@tensorflow/tfjs-core';

/**
 * Runs a kernel written for tfjs's cpu backend on tfjs-backend-wasm, in place on the wasm heap: the
 * cpu kernel reads its inputs as typed-array views of the heap and its outputs are copied into heap
 * tensors. This keeps one algorithm for both backends (the wasm backend's JS kernels, e.g. its Fill,
 * use the heap the same way). Only the structural parts of both backends are typed, so nothing is
 * imported at runtime from `@tensorflow/tfjs-backend-wasm` or `-cpu`.
 */
interface WasmBackendLike {
  wasm: { HEAPU8: Uint8Array; wasmMemory?: WebAssembly.Memory };
  dataIdMap: {
    get(dataId: tf.DataId): { memoryOffset: number; shape: number[]; dtype: tf.DataType } | undefined;
  };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

const VIEWS = { float32: Float32Array, int32: Int32Array, bool: Uint8Array } as const;

function heapView(wasm: WasmBackendLike, dataId: tf.DataId): tf.TypedArray {
  const data = wasm.dataIdMap.get(dataId);
  if (!data) throw new Error('cpu kernel on wasm: tensor data is not on the wasm backend');
  const View = VIEWS[data.dtype as keyof typeof VIEWS];
  if (!View) throw new Error(`cpu kernel on wasm: unsupported dtype ${data.dtype}`);
  // The memory's own buffer: with threads, another thread may have grown the heap since the
  // emscripten module refreshed its HEAP views.
  const buffer = (wasm.wasm.wasmMemory?.buffer ?? wasm.wasm.HEAPU8.buffer) as ArrayBuffer;
  return new View(buffer, data.memoryOffset, tf.util.sizeFromShape(data.shape));
}

/** The slice of `MathBackendCPU` that cvm's cpu kernels use, backed by the wasm heap. */
function cpuViewOf(wasm: WasmBackendLike) {
  return {
    data: { get: (dataId: tf.DataId) => ({ values: heapView(wasm, dataId) }) },
    makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.TypedArray): tf.TensorInfo {
      const out = wasm.makeOutput(shape, dtype);
      // Views taken after makeOutput: a growing heap replaces the buffer.
      if (values) (heapView(wasm, out.dataId) as tf.TypedArray).set(values as never);
      return out;
    },
  };
}

/** Registers, for 'wasm', the kernel registered for 'cpu' under `kernelName`, run on the wasm heap. */
export function registerCpuKernelOnWasm(kernelName: string): void {
  const cpu = tf.getKernel(kernelName, 'cpu');
  if (!cpu) throw new Error(`registerCpuKernelOnWasm: no cpu kernel '${kernelName}' is registered`);
  tf.registerKernel({
    kernelName,
    backendName: 'wasm',
    kernelFunc: (args) => cpu.kernelFunc({ ...args, backend: cpuViewOf(args.backend as WasmBackendLike) }),
  });
}
