/**
 * Conv2DBackpropFilter for wasm (tfjs 4.22 has none) as one XNNPACK convolution.
 *
 * dW[i,j,c,o] = Σ_{n,p,q} x[n, p·sh + i − top, q·sw + j − left, c] · dy[n,p,q,o] is itself a
 * convolution: of x with batch and channel axes swapped ([Ci,H,W,N]) by dy used as the filter
 * ([Ho,Wo,N,Co]), stride 1 and dilation = the forward stride. Its output is [Ci,kh,kw,Co] once x is
 * padded (or cropped) to (Ho−1)·s + k rows and columns.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { convGradientInfo } from '../../conv-gradient-info.js';
import { conv2dExplicit, release, slice, transpose } from './call-kernel.js';

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
