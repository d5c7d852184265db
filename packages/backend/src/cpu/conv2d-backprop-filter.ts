/**
 * Conv2DBackpropFilter for tfjs's pure-JS cpu backend. tfjs 4.22's runs at about 0.01 GFLOP/s (80×
 * slower than its forward convolution); this one accumulates dW[i,j,c,:] += x[n,y,x,c] · dy[n,p,q,:]
 * with the output channels innermost, as fast as the forward.
 */
import * as tf from '@tensorflow/tfjs-core';
import { convGradientInfo } from '../conv-gradient-info.js';

/** The slice of `MathBackendCPU` used here (nothing is imported from tfjs-backend-cpu at runtime). */
interface CpuBackendLike {
  data: { get(dataId: tf.DataId): { values?: unknown } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

function float32Values(backend: CpuBackendLike, t: tf.TensorInfo, name: string): Float32Array {
  const values = backend.data.get(t.dataId).values;
  if (!(values instanceof Float32Array))
    throw new Error(`Conv2DBackpropFilter (cpu): ${name} must be float32`);
  return values;
}

function conv2DBackpropFilter(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}): tf.TensorInfo {
  const backend = args.backend as CpuBackendLike;
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const { filterShape } = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  const info = convGradientInfo('Conv2DBackpropFilter (cpu)', x.shape, filterShape, args.attrs);
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outChannels: co } = info;
  const { outHeight: ho, outWidth: wo, filterHeight: kh, filterWidth: kw } = info;
  const { strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  const xs = float32Values(backend, x, 'x');
  const dys = float32Values(backend, dy, 'dy');
  const dw = new Float64Array(kh * kw * ci * co);
  for (let b = 0; b < n; b++) {
    for (let p = 0; p < ho; p++) {
      for (let q = 0; q < wo; q++) {
        const dyOff = ((b * ho + p) * wo + q) * co;
        for (let i = 0; i < kh; i++) {
          const y = p * sh + i - top;
          if (y < 0 || y >= h) continue;
          for (let j = 0; j < kw; j++) {
            const xc = q * sw + j - left;
            if (xc < 0 || xc >= w) continue;
            const xOff = ((b * h + y) * w + xc) * ci;
            const wOff = (i * kw + j) * ci * co;
            for (let c = 0; c < ci; c++) {
              const xv = xs[xOff + c]!;
              if (xv === 0) continue;
              const base = wOff + c * co;
              for (let o = 0; o < co; o++) dw[base + o]! += xv * dys[dyOff + o]!;
            }
          }
        }
      }
    }
  }
  return backend.makeTensorInfo(filterShape, 'float32', Float32Array.from(dw));
}

export const cpuConv2DBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: 'cpu',
  kernelFunc: conv2DBackpropFilter as tf.KernelFunc,
};

let registered = false;

/** Replaces the cpu backend's Conv2DBackpropFilter with the fast one above; idempotent. */
export function registerCpuTrainingKernels(): void {
  if (registered) return;
  registered = true;
  if (tf.getKernel(tf.Conv2DBackpropFilter, 'cpu')) tf.unregisterKernel(tf.Conv2DBackpropFilter, 'cpu');
  tf.registerKernel(cpuConv2DBackpropFilterConfig);
}
