/**
 * `_FusedMatMul` and `FusedConv2D` for cpu-xnnpack, unfused: the product on XNNPACK (the backend's
 * own BatchMatMul / Conv2D), then the bias and the activation as the backend's kernels, with cpu's
 * semantics (a bias or PReLU slope that broadcasts, NaN through ReLU). wasm's fused kernels read a
 * bias of exactly the output's channels and clamp NaN to 0, so they are not used.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { callKernelOf } from '../wasm/kernels/call-kernel.js';
import type { HostBackend } from './offload.js';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

/** The kernel each fused activation runs as, and its extra inputs and attributes. */
function activationCall(
  activation: string,
  x: tf.TensorInfo,
  alpha: tf.TensorInfo | undefined,
  leakyreluAlpha: number | undefined,
): [string, tf.NamedTensorInfoMap, tf.NamedAttrMap] | undefined {
  switch (activation) {
    case 'linear':
      return undefined;
    case 'relu':
      return ['Relu', { x }, {}];
    case 'relu6':
      return ['Relu6', { x }, {}];
    case 'elu':
      return ['Elu', { x }, {}];
    case 'sigmoid':
      return ['Sigmoid', { x }, {}];
    case 'prelu':
      return ['Prelu', { x, alpha: alpha as tf.TensorInfo }, {}];
    case 'leakyrelu':
      return ['LeakyRelu', { x }, { alpha: leakyreluAlpha ?? 0.2 }];
    default:
      throw new Error(`cpu-xnnpack: unknown fused activation '${activation}'`);
  }
}

/**
 * A fused kernel for `backendName` as `product` (its two operands named `operands`) followed by the
 * bias and the activation. `fallback` (cpu's fused kernel) runs NCHW convolutions.
 */
export function unfusedKernel(
  backendName: string,
  product: string,
  operands: readonly [string, string],
  fallback: tf.KernelFunc,
): tf.KernelFunc {
  return ((args: KernelArgs) => {
    const attrs = (args.attrs ?? {}) as tf.NamedAttrMap & { activation?: string; leakyreluAlpha?: number };
    if (attrs.dataFormat === 'NCHW') return fallback(args as never);
    const { activation = 'linear', leakyreluAlpha, ...productAttrs } = attrs;
    const { bias, preluActivationWeights } = args.inputs;
    const backend = args.backend as tf.KernelBackend;
    const host = backend as unknown as HostBackend;
    const [first, second] = operands;
    let out = callKernelOf(
      backendName,
      product,
      backend,
      { [first]: args.inputs[first]!, [second]: args.inputs[second]! },
      productAttrs,
    );
    const then = (name: string, inputs: tf.NamedTensorInfoMap, kernelAttrs: tf.NamedAttrMap) => {
      const next = callKernelOf(backendName, name, backend, inputs, kernelAttrs);
      host.disposeIntermediateTensorInfo(out);
      out = next;
    };
    if (bias) then('Add', { a: out, b: bias }, {});
    const act = activationCall(activation, out, preluActivationWeights, leakyreluAlpha);
    if (act) then(...act);
    return out;
  }) as tf.KernelFunc;
}
