/**
 * Conv2DBackpropInput for wasm as one XNNPACK convolution (tfjs 4.22's is a scalar C loop).
 *
 * The input gradient is the correlation of dy, zero-inserted by the stride, with the filter flipped
 * in space and its channel axes swapped, padded by k − 1 − pad on the leading sides.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { convGradientInfo } from '../../conv-gradient-info.js';
import { callKernel, conv2dExplicit, release, reshape, slice, transpose } from './call-kernel.js';

/** dy [N,Ho,Wo,C] with s−1 zeros after every row and column: [N, Ho·sh, Wo·sw, C]. */
function zeroInsert(backend: BackendWasm, dy: tf.TensorInfo, sh: number, sw: number): tf.TensorInfo {
  const [n, ho, wo, c] = dy.shape as number[];
  if (sh === 1 && sw === 1) return reshape(backend, dy, dy.shape);
  const r = reshape(backend, dy, [n! * ho!, 1, wo!, 1, c!]);
  const padded = callKernel(
    'PadV2',
    backend,
    { x: r },
    {
      paddings: [
        [0, 0],
        [0, sh - 1],
        [0, 0],
        [0, sw - 1],
        [0, 0],
      ],
      constantValue: 0,
    },
  );
  const out = reshape(backend, padded, [n!, ho! * sh, wo! * sw, c!]);
  release(backend, r, padded);
  return out;
}

function conv2DBackpropInput(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const { inputShape } = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
  const info = convGradientInfo('Conv2DBackpropInput (wasm)', inputShape, filter.shape, args.attrs);
  const {
    strideHeight: sh,
    strideWidth: sw,
    filterHeight: kh,
    filterWidth: kw,
    inHeight: h,
    inWidth: w,
  } = info;
  let d = zeroInsert(backend, dy, sh, sw); // [N, Ho·sh, Wo·sw, Co]; trailing zero rows act as padding
  // Leading padding k−1−pad; trailing whatever makes the output H×W (negative: crop).
  let top = kh - 1 - info.padInfo.top;
  let left = kw - 1 - info.padInfo.left;
  const [n, dh, dw, co] = d.shape as number[];
  const cropTop = Math.max(-top, 0);
  const cropLeft = Math.max(-left, 0);
  top = Math.max(top, 0);
  left = Math.max(left, 0);
  let bottom = h + kh - 1 - top - (dh! - cropTop);
  let right = w + kw - 1 - left - (dw! - cropLeft);
  const cropBottom = Math.max(-bottom, 0);
  const cropRight = Math.max(-right, 0);
  bottom = Math.max(bottom, 0);
  right = Math.max(right, 0);
  if (cropTop || cropLeft || cropBottom || cropRight) {
    const cropped = slice(
      backend,
      d,
      [0, cropTop, cropLeft, 0],
      [n!, dh! - cropTop - cropBottom, dw! - cropLeft - cropRight, co!],
    );
    release(backend, d);
    d = cropped;
  }
  const flipped = callKernel('Reverse', backend, { x: filter }, { dims: [0, 1] });
  const wt = transpose(backend, flipped, [0, 1, 3, 2]); // [kh, kw, Co, Ci]
  const dx = conv2dExplicit(backend, d, wt, [top, bottom], [left, right], [1, 1]);
  release(backend, d, flipped, wt);
  return dx;
}

export const conv2DBackpropInputConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropInput,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropInput as tf.KernelFunc,
};
