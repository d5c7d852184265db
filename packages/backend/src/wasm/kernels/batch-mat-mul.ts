/**
 * BatchMatMul for wasm routed to XNNPACK. tfjs 4.22's kernel uses XNNPACK only for an untransposed
 * product of two single matrices, and a scalar C loop otherwise (every backward matMul, attention).
 * Here transposes are made explicit, a batch of `a` against one `b` is folded into rows, and large
 * batched products are run one matrix at a time on the XNNPACK path.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { release, reshape, slice, transpose } from './call-kernel.js';

/** Multiply-adds per matrix below which tfjs's loop beats one XNNPACK call per matrix. */
const MIN_PER_MATRIX_WORK = 1 << 16;

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

/** The BatchMatMul kernel tfjs registered for wasm, captured before it is replaced. */
let stock: tf.KernelConfig | undefined;

function stockMatMul(
  backend: BackendWasm,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  ta = false,
  tb = false,
): tf.TensorInfo {
  return stock!.kernelFunc({
    inputs: { a, b },
    backend,
    attrs: { transposeA: ta, transposeB: tb },
  }) as tf.TensorInfo;
}

/** [rows, cols] matrix of `x` (batch 1), transposed into a new buffer when asked. */
function matrix(
  backend: BackendWasm,
  x: tf.TensorInfo,
  rows: number,
  cols: number,
  transposed: boolean,
): tf.TensorInfo {
  const m = reshape(backend, x, transposed ? [1, cols, rows] : [1, rows, cols]);
  if (!transposed) return m;
  const t = transpose(backend, m, [0, 2, 1]);
  release(backend, m);
  return t;
}

function batchMatMul(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const { transposeA, transposeB } = args.attrs as unknown as tf.BatchMatMulAttrs;
  if (a.dtype !== 'float32' || b.dtype !== 'float32')
    return stockMatMul(backend, a, b, transposeA, transposeB);
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = transposeA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const k = transposeA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const kb = transposeB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const n = transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  if (k !== kb) return stockMatMul(backend, a, b, transposeA, transposeB); // its error message
  const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2));
  const batchB = tf.util.sizeFromShape(b.shape.slice(0, -2));
  const outBatch = tf.backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const outShape = [...outBatch, m, n];

  if (batchB === 1 && (batchA === 1 || !transposeA)) {
    // One product: a's batch folds into rows when a is not transposed.
    const am = matrix(backend, a, batchA * m, k, transposeA);
    const bm = matrix(backend, b, k, n, transposeB);
    const prod = stockMatMul(backend, am, bm);
    const out = reshape(backend, prod, outShape);
    release(backend, am, bm, prod);
    return out;
  }
  if (batchA !== batchB || m * n * k < MIN_PER_MATRIX_WORK) {
    return stockMatMul(backend, a, b, transposeA, transposeB);
  }
  // Same batch on both sides, large matrices: XNNPACK once per matrix, written into one output.
  const a3 = reshape(backend, a, [batchA, a.shape[ra - 2]!, a.shape[ra - 1]!]);
  const b3 = reshape(backend, b, [batchB, b.shape[rb - 2]!, b.shape[rb - 1]!]);
  const out = backend.makeOutput(outShape, 'float32');
  for (let i = 0; i < batchA; i++) {
    const ai = slice(backend, a3, [i, 0, 0], [1, a3.shape[1]!, a3.shape[2]!]);
    const bi = slice(backend, b3, [i, 0, 0], [1, b3.shape[1]!, b3.shape[2]!]);
    const am = matrix(backend, ai, m, k, transposeA);
    const bm = matrix(backend, bi, k, n, transposeB);
    const prod = stockMatMul(backend, am, bm);
    // Views taken after every allocation: heap growth detaches earlier ones.
    (backend.typedArrayFromHeap(out) as Float32Array).set(
      backend.typedArrayFromHeap(prod) as Float32Array,
      i * m * n,
    );
    release(backend, ai, bi, am, bm, prod);
  }
  release(backend, a3, b3);
  return out;
}

/** Replaces tfjs's wasm BatchMatMul, keeping its setup (which binds the C function it falls back to). */
export function batchMatMulConfig(): tf.KernelConfig {
  stock ??= tf.getKernel(tf.BatchMatMul, 'wasm');
  if (!stock) throw new Error("tfjs-backend-wasm's BatchMatMul kernel is not registered");
  return {
    kernelName: tf.BatchMatMul,
    backendName: 'wasm',
    setupFunc: stock.setupFunc,
    kernelFunc: batchMatMul as tf.KernelFunc,
  };
}
