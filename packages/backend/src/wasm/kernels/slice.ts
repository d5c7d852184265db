/**
 * Slice, SplitV and Unpack for wasm copying rows straight between heap views. tfjs 4.22's copy the
 * whole input out of the heap (`readSync`) for every slice, which made them a large share of window
 * partitioning and of every split.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

/** `x[begin : begin + size]` as a new heap tensor (numeric dtypes). */
export function sliceOnHeap(
  backend: BackendWasm,
  x: tf.TensorInfo,
  begin: number[],
  size: number[],
): tf.TensorInfo {
  const [b, s] = tf.slice_util.parseSliceParams(x, begin, size);
  const out = backend.makeOutput(s, x.dtype);
  const total = tf.util.sizeFromShape(s);
  if (total === 0) return out;
  // Views after makeOutput: a growing heap replaces the buffer.
  const src = backend.typedArrayFromHeap(x) as Float32Array;
  const dst = backend.typedArrayFromHeap(out) as Float32Array;
  const shape = x.shape;
  const rank = shape.length;
  if (rank === 0) {
    dst.set(src);
    return out;
  }
  const strides = [...tf.util.computeStrides(shape), 1];
  // The copied run: the last axis sliced partially together with every full axis after it.
  let k = rank - 1;
  while (k > 0 && s[k] === shape[k]) k--;
  const run = s[k]! * strides[k]!;
  const index = new Array<number>(k).fill(0);
  for (let o = 0; o < total; o += run) {
    let from = b[k]! * strides[k]!;
    for (let j = 0; j < k; j++) from += (b[j]! + index[j]!) * strides[j]!;
    dst.set(src.subarray(from, from + run), o);
    for (let j = k - 1; j >= 0; j--) {
      if (++index[j]! < s[j]!) break;
      index[j] = 0;
    }
  }
  return out;
}

function slice({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { x } = inputs as { x: tf.TensorInfo };
  const { begin, size } = attrs as unknown as tf.SliceAttrs;
  return sliceOnHeap(backend as BackendWasm, x, begin as number[], size as number[]);
}

function splitV({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const { x } = inputs as { x: tf.TensorInfo };
  const { numOrSizeSplits, axis } = attrs as unknown as tf.SplitVAttrs;
  const a = tf.util.parseAxisParam(axis, x.shape)[0]!;
  const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, a);
  const begin = new Array<number>(x.shape.length).fill(0);
  return sizes.map((n) => {
    const size = [...x.shape];
    size[a] = n;
    const piece = sliceOnHeap(backend as BackendWasm, x, [...begin], size);
    begin[a]! += n;
    return piece;
  });
}

function unpack({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const { value } = inputs as { value: tf.TensorInfo };
  const rank = value.shape.length;
  const axis = ((attrs as unknown as tf.UnpackAttrs).axis + rank) % rank;
  const outShape = value.shape.filter((_, i) => i !== axis);
  const size = [...value.shape];
  size[axis] = 1;
  return Array.from({ length: value.shape[axis]! }, (_, i) => {
    const begin = new Array<number>(rank).fill(0);
    begin[axis] = i;
    const { dataId, dtype } = sliceOnHeap(backend as BackendWasm, value, begin, size);
    return { dataId, dtype, shape: outShape };
  });
}

/** Kernel configs replacing tfjs's wasm Slice, SplitV and Unpack (strings keep tfjs's kernels). */
export function sliceConfigs(): tf.KernelConfig[] {
  const configs: [string, (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[], string][] = [
    [tf.Slice, slice, 'x'],
    [tf.SplitV, splitV, 'x'],
    [tf.Unpack, unpack, 'value'],
  ];
  return configs.map(([kernelName, ours, input]) => {
    const stock = tf.getKernel(kernelName, 'wasm');
    if (!stock) throw new Error(`tfjs-backend-wasm's ${kernelName} kernel is not registered`);
    const kernelFunc = (args: KernelArgs) =>
      args.inputs[input]!.dtype === 'string' ? stock.kernelFunc(args as never) : ours(args);
    return {
      kernelName,
      backendName: 'wasm',
      setupFunc: stock.setupFunc,
      kernelFunc: kernelFunc as tf.KernelFunc,
    };
  });
}
