/**
 * Conv2DBackpropFilter for wasm (tfjs 4.22 has none), on XNNPACK by one of two re-expressions of
 * dW[i,j,c,o] = Σ_{n,p,q} x[n, p·sh + i − top, q·sw + j − left, c] · dy[n,p,q,o]:
 *
 * - per tap (stride 1): for each (i, j) of the kh×kw taps, the window of x it reads ([Ci, N·Ho·Wo]
 *   once x is transposed channels-first) times dy ([N·Ho·Wo, Co]): kh·kw plain matrix products,
 *   efficient when the channel counts fill XNNPACK's GEMM tiles.
 * - as one convolution: of x with batch and channel axes swapped ([Ci,H,W,N]) by dy used as the filter
 *   ([Ho,Wo,N,Co]), stride 1 and dilation = the forward stride, whose output is [Ci,kh,kw,Co] once x
 *   is padded (or cropped) to (Ho−1)·s + k rows and columns. Its input has only N channels, so XNNPACK
 *   reads one or two floats per indirection pointer; it wins for few channels or many taps.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { convGradientInfo } from '../../conv-gradient-info.js';
import { callKernel, conv2dExplicit, release, reshape, slice, transpose } from './call-kernel.js';

/** Channels (in and out) from which the per-tap products beat the single convolution. */
const MIN_TAPWISE_CHANNELS = 16;
/** Taps up to which they do (each tap copies a window of x). */
const MAX_TAPWISE_TAPS = 25;

/**
 * Which re-expression computes this gradient (exported for the tests, which check both). Measured on
 * wasm with 2 threads, stride 1: per tap 1.5–2.8× faster from 64 channels up (3×3 and 1×1); strided
 * windows (StridedSlice) made it 5–12× slower at stride 2, and 3 input channels (patch embedding)
 * 1.7× slower, so those stay one convolution.
 */
export function backpropFilterRoute(
  ci: number,
  co: number,
  kh: number,
  kw: number,
  sh: number,
  sw: number,
): 'taps' | 'conv' {
  const channels = Math.min(ci, co) >= MIN_TAPWISE_CHANNELS;
  return channels && kh * kw <= MAX_TAPWISE_TAPS && sh === 1 && sw === 1 ? 'taps' : 'conv';
}

/** x [N,H,W,C] padded by `top`/`left` and padded or cropped at the end to `rows` × `cols`. */
function padOrCrop(
  backend: BackendWasm,
  x: tf.TensorInfo,
  top: number,
  left: number,
  rows: number,
  cols: number,
): tf.TensorInfo {
  const [n, h, w, c] = x.shape as number[];
  const bottom = rows - top - h!;
  const right = cols - left - w!;
  let out = x;
  if (bottom < 0 || right < 0) {
    out = slice(backend, x, [0, 0, 0, 0], [n!, h! + Math.min(bottom, 0), w! + Math.min(right, 0), c!]);
  }
  if (top > 0 || left > 0 || bottom > 0 || right > 0) {
    const padded = callKernel(
      'PadV2',
      backend,
      { x: out },
      {
        paddings: [
          [0, 0],
          [top, Math.max(bottom, 0)],
          [left, Math.max(right, 0)],
          [0, 0],
        ],
        constantValue: 0,
      },
    );
    if (out !== x) release(backend, out);
    out = padded;
  }
  return out === x ? reshape(backend, x, x.shape) : out;
}

/** The per-tap route, for stride 1. */
function tapwise(
  backend: BackendWasm,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): tf.TensorInfo {
  const { filterHeight: kh, filterWidth: kw } = info;
  const { outHeight: ho, outWidth: wo, inChannels: ci, outChannels: co, batchSize: n } = info;
  const rows = ho - 1 + kh;
  const cols = wo - 1 + kw;
  const xp = padOrCrop(backend, x, info.padInfo.top, info.padInfo.left, rows, cols);
  const xt = transpose(backend, xp, [3, 0, 1, 2]); // [Ci, N, rows, cols]
  release(backend, xp);
  const dy2 = reshape(backend, dy, [n * ho * wo, co]);
  const out = backend.makeOutput([kh, kw, ci, co], 'float32');
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const window = slice(backend, xt, [0, 0, i, j], [ci, n, ho, wo]);
      const a = reshape(backend, window, [ci, n * ho * wo]);
      const tap = callKernel('BatchMatMul', backend, { a, b: dy2 }, { transposeA: false, transposeB: false });
      // Views taken after every allocation: heap growth detaches earlier ones.
      (backend.typedArrayFromHeap(out) as Float32Array).set(
        backend.typedArrayFromHeap(tap) as Float32Array,
        (i * kw + j) * ci * co,
      );
      release(backend, window, a, tap);
    }
  }
  release(backend, xt, dy2);
  return out;
}

function conv2DBackpropFilter(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const { filterShape } = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  const info = convGradientInfo('Conv2DBackpropFilter (wasm)', x.shape, filterShape, args.attrs);
  const {
    strideHeight: sh,
    strideWidth: sw,
    filterHeight: kh,
    filterWidth: kw,
    outHeight: ho,
    outWidth: wo,
  } = info;
  const [, h, w, ci] = x.shape as number[];
  if (backpropFilterRoute(ci!, info.outChannels, kh, kw, sh, sw) === 'taps')
    return tapwise(backend, x, dy, info);
  const { top, left } = info.padInfo;
  const bottom = kh + (ho - 1) * sh - top - h!;
  const right = kw + (wo - 1) * sw - left - w!;

  let xt = transpose(backend, x, [3, 1, 2, 0]); // [Ci, H, W, N]
  if (bottom < 0 || right < 0) {
    const cropped = slice(
      backend,
      xt,
      [0, 0, 0, 0],
      [ci!, h! + Math.min(bottom, 0), w! + Math.min(right, 0), xt.shape[3]!],
    );
    release(backend, xt);
    xt = cropped;
  }
  const filter = transpose(backend, dy, [1, 2, 0, 3]); // [Ho, Wo, N, Co]
  const dwT = conv2dExplicit(
    backend,
    xt,
    filter,
    [top, Math.max(bottom, 0)],
    [left, Math.max(right, 0)],
    [sh, sw],
  ); // [Ci, kh, kw, Co]
  const dw = transpose(backend, dwT, [1, 2, 0, 3]);
  release(backend, xt, filter, dwT);
  return dw;
}

export const conv2DBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter as tf.KernelFunc,
};
