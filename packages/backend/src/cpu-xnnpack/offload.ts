/**
 * Runs a wasm kernel for a backend whose tensors live in JS memory: its inputs are copied onto the
 * wasm heap, the kernel runs there (XNNPACK, SIMD, threads), its outputs are copied back and every
 * heap buffer is freed before returning. The heap then holds one kernel's operands at a time, never
 * the model's state, so the wasm32 4 GiB cap no longer bounds what can be trained.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** The slice of tfjs-backend-cpu's `MathBackendCPU` used here. */
export interface HostBackend {
  readSync(dataId: tf.DataId): tf.backend_util.BackendValues;
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.backend_util.BackendValues): tf.TensorInfo;
  disposeIntermediateTensorInfo(info: tf.TensorInfo): void;
}

/** XNNPACK's largest rank: above it wasm's arithmetic and padding return unwritten buffers. */
const MAX_RANK = 6;

/**
 * Operand bytes above which a call stays on the host: the heap's growth is capped at 4 GiB and a
 * failed allocation there is not reported to JS.
 */
const MAX_HEAP_OPERAND_BYTES = 3 * 2 ** 30;

/**
 * Whether wasm's kernel computes what cpu's does for these inputs. Only float32 (wasm's products and
 * convolutions take nothing else); no empty tensor (wasm's reductions leave their output unwritten);
 * no rank above XNNPACK's; operands that fit the heap beside what it holds.
 */
export function heapCanRun(inputs: readonly tf.TensorInfo[]): boolean {
  let bytes = 0;
  for (const t of inputs) {
    const size = tf.util.sizeFromShape(t.shape);
    if (t.dtype !== 'float32' || size === 0 || t.shape.length > MAX_RANK) return false;
    bytes += 4 * size;
  }
  return bytes <= MAX_HEAP_OPERAND_BYTES;
}

/**
 * A float32 tensor's values as a Float32Array: cpu kernels may hold a float32 tensor in another
 * typed array (a cast from bool keeps its bytes), which the heap would misread.
 */
function float32Values(host: HostBackend, t: tf.TensorInfo): Float32Array {
  const values = host.readSync(t.dataId) as tf.TypedArray;
  return values instanceof Float32Array ? values : Float32Array.from(values);
}

/** Throws when the heap could not allocate `info`'s buffer (emscripten's malloc then returns 0). */
function checkAllocated(heap: BackendWasm, info: tf.TensorInfo, kernelName: string): void {
  if (tf.util.sizeFromShape(info.shape) > 0 && heap.getMemoryOffset(info.dataId) === 0)
    throw new Error(
      `cpu-xnnpack: the wasm heap could not allocate ${kernelName}'s [${info.shape}] ${info.dtype} buffer`,
    );
}

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

/** Kernels whose wasm kernel threw once (said once per kernel, then cpu's kernel runs silently). */
const warned = new Set<string>();

/**
 * A kernel function for the host backend that runs `kernelName`'s wasm kernel on the wasm backend
 * `wasm()` returns (looked up per call, so that a removed wasm backend gives a clear error). The
 * host's own kernel `fallback` runs instead when `heapCanRun` says no, and when wasm's kernel throws
 * (a case it does not take; cpu's kernel then gives its own error if the input itself is wrong).
 */
export function offloadToWasm(
  kernelName: string,
  wasm: () => BackendWasm,
  fallback: tf.KernelFunc,
): tf.KernelFunc {
  return ((args: KernelArgs) => {
    const inputs = Object.entries(args.inputs).filter((e): e is [string, tf.TensorInfo] => e[1] != null);
    if (!heapCanRun(inputs.map(([, t]) => t))) return fallback(args as never);
    const kernel = tf.getKernel(kernelName, 'wasm');
    if (!kernel) throw new Error(`cpu-xnnpack: kernel '${kernelName}' is not registered for wasm`);
    const heap = wasm();
    const host = args.backend as HostBackend;
    const onHeap: tf.TensorInfo[] = [];
    const outputs: tf.TensorInfo[] = [];
    try {
      // Concat and Pack take an array of tensors, the others a map by name: keep the form.
      const heapInputs = (Array.isArray(args.inputs) ? [] : {}) as Record<string, tf.TensorInfo>;
      for (const [name, t] of inputs) {
        const dataId = heap.write(float32Values(host, t), t.shape, t.dtype);
        const info = { dataId, shape: t.shape, dtype: t.dtype };
        onHeap.push(info);
        checkAllocated(heap, info, kernelName);
        heapInputs[name] = info;
      }
      let result: tf.TensorInfo | tf.TensorInfo[];
      try {
        result = kernel.kernelFunc({
          inputs: heapInputs as tf.NamedTensorInfoMap,
          backend: heap,
          attrs: args.attrs ?? {},
        });
      } catch (err) {
        if (!warned.has(kernelName)) {
          warned.add(kernelName);
          console.warn(
            `cpu-xnnpack: wasm's ${kernelName} refused a call (${(err as Error).message}); cpu's kernel runs it`,
          );
        }
        return fallback(args as never);
      }
      outputs.push(...(Array.isArray(result) ? result : [result]));
      for (const o of outputs) checkAllocated(heap, o, kernelName);
      const back = outputs.map((o) => host.makeTensorInfo(o.shape, o.dtype, heap.readSync(o.dataId)));
      return Array.isArray(result) ? back : back[0]!;
    } finally {
      // An output may share an input's buffer (a reshape): each reference is released once.
      for (const t of [...outputs, ...onHeap]) heap.disposeData(t.dataId);
    }
  }) as tf.KernelFunc;
}
