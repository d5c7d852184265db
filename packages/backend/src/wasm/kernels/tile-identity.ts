/**
 * Tile and Identity for wasm without per-element work. tfjs 4.22's Tile is a C loop computing every
 * output element's source index (a [1,288,72] input tiled 56 times took 280 ms); its Identity copies
 * the tensor, where the cpu backend shares the data (tensors are immutable).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

/**
 * `x` repeated `reps[k]` times along each axis k, by block copies in the heap: the input's rows are
 * placed first, then from the last axis to the first each filled block is copied after itself.
 */
export function tileOnHeap(backend: BackendWasm, x: tf.TensorInfo, reps: readonly number[]): tf.TensorInfo {
  const shape = x.shape;
  const rank = shape.length;
  const outShape = shape.map((n, k) => n * reps[k]!);
  const out = backend.makeOutput(outShape, x.dtype);
  if (tf.util.sizeFromShape(outShape) === 0) return out;
  const src = backend.typedArrayFromHeap(x) as Float32Array;
  const dst = backend.typedArrayFromHeap(out) as Float32Array;
  if (rank === 0) {
    dst.set(src);
    return out;
  }
  const outStrides = [...tf.util.computeStrides(outShape), 1];
  /** Calls `f` with the output offset of every index of x's leading `k` axes. */
  const forEachLeading = (k: number, f: (offset: number) => void) => {
    const index = new Array<number>(k).fill(0);
    const count = tf.util.sizeFromShape(shape.slice(0, k));
    for (let i = 0; i < count; i++) {
      let offset = 0;
      for (let j = 0; j < k; j++) offset += index[j]! * outStrides[j]!;
      f(offset);
      for (let j = k - 1; j >= 0; j--) {
        if (++index[j]! < shape[j]!) break;
        index[j] = 0;
      }
    }
  };
  const row = shape[rank - 1]!;
  let r = 0;
  forEachLeading(rank - 1, (offset) => {
    dst.set(src.subarray(r, r + row), offset);
    r += row;
  });
  for (let k = rank - 1; k >= 0; k--) {
    if (reps[k] === 1) continue;
    const block = shape[k]! * outStrides[k]!;
    forEachLeading(k, (offset) => {
      for (let rep = 1; rep < reps[k]!; rep++) dst.copyWithin(offset + rep * block, offset, offset + block);
    });
  }
  return out;
}

function tile({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { x } = inputs as { x: tf.TensorInfo };
  return tileOnHeap(backend as BackendWasm, x, (attrs as unknown as tf.TileAttrs).reps);
}

/** The same data under a new tensor, as the cpu backend's Identity. */
function identity({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const { x } = inputs as { x: tf.TensorInfo };
  (backend as BackendWasm).incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

/** Kernel configs replacing tfjs's wasm Tile and Identity (strings keep tfjs's kernels). */
export function tileIdentityConfigs(): tf.KernelConfig[] {
  const configs: [string, (args: KernelArgs) => tf.TensorInfo][] = [
    [tf.Tile, tile],
    [tf.Identity, identity],
  ];
  return configs.map(([kernelName, ours]) => {
    const stock = tf.getKernel(kernelName, 'wasm');
    if (!stock) throw new Error(`tfjs-backend-wasm's ${kernelName} kernel is not registered`);
    const kernelFunc = (args: KernelArgs) =>
      args.inputs.x!.dtype === 'string' ? stock.kernelFunc(args as never) : ours(args);
    return {
      kernelName,
      backendName: 'wasm',
      setupFunc: stock.setupFunc,
      kernelFunc: kernelFunc as tf.KernelFunc,
    };
  });
}
