import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/**
 * Runs `backendName`'s kernel `name` on TensorInfos of `backend`, as tfjs's own kernels call each
 * other: no engine bookkeeping, so the caller frees every intermediate.
 */
export function callKernelOf(
  backendName: string,
  name: string,
  backend: tf.KernelBackend,
  inputs: tf.NamedTensorInfoMap,
  attrs: tf.NamedAttrMap = {},
): tf.TensorInfo {
  const kernel = tf.getKernel(name, backendName);
  if (!kernel) throw new Error(`Kernel '${name}' is not registered for backend '${backendName}'`);
  return kernel.kernelFunc({ inputs, backend, attrs }) as tf.TensorInfo;
}

/** {@link callKernelOf} for wasm; intermediates go back through {@link release}. */
export function callKernel(
  name: string,
  backend: BackendWasm,
  inputs: tf.NamedTensorInfoMap,
  attrs: tf.NamedAttrMap = {},
): tf.TensorInfo {
  return callKernelOf('wasm', name, backend, inputs, attrs);
}

/** Frees intermediates made by {@link callKernel}. */
export function release(backend: BackendWasm, ...infos: tf.TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

/** `x` transposed by `perm`. */
export function transpose(backend: BackendWasm, x: tf.TensorInfo, perm: number[]): tf.TensorInfo {
  return callKernel('Transpose', backend, { x }, { perm });
}

/** `x` viewed with another shape (shares its data). */
export function reshape(backend: BackendWasm, x: tf.TensorInfo, shape: number[]): tf.TensorInfo {
  return callKernel('Reshape', backend, { x }, { shape });
}

/** A window of `x` (rank ≤ 4). */
export function slice(
  backend: BackendWasm,
  x: tf.TensorInfo,
  begin: number[],
  size: number[],
): tf.TensorInfo {
  return callKernel('Slice', backend, { x }, { begin, size });
}

/**
 * A stride-1 XNNPACK convolution of `x` [N,H,W,Ci] by `filter` [kh,kw,Ci,Co] with explicit padding
 * (`[top, bottom]`, `[left, right]`) and dilation.
 */
export function conv2dExplicit(
  backend: BackendWasm,
  x: tf.TensorInfo,
  filter: tf.TensorInfo,
  rows: [number, number],
  cols: [number, number],
  dilations: [number, number],
): tf.TensorInfo {
  const pad = [[0, 0], rows, cols, [0, 0]];
  return callKernel(
    'Conv2D',
    backend,
    { x, filter },
    { strides: [1, 1], pad, dataFormat: 'NHWC', dilations },
  );
}
