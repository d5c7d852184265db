import * as tf from '@tensorflow/tfjs-core';

/** The attributes tfjs passes to both conv2d gradient kernels. */
interface ConvGradientAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/**
 * The forward convolution's geometry for a Conv2DBackpropFilter/Input kernel (tfjs's gradients only
 * use dilation 1); `kernel` names it in the error for anything but NHWC.
 */
export function convGradientInfo(
  kernel: string,
  inputShape: readonly number[],
  filterShape: readonly number[],
  attrs: tf.NamedAttrMap | undefined,
): tf.backend_util.Conv2DInfo {
  const { strides, pad, dataFormat, dimRoundingMode } = attrs as unknown as ConvGradientAttrs;
  if (dataFormat !== 'NHWC') throw new Error(`${kernel}: NHWC only, got ${dataFormat}`);
  return tf.backend_util.computeConv2DInfo(
    inputShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
  );
}
