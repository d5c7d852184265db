import * as tf from '@tensorflow/tfjs-core';

/**
 * Runs `fn` off the gradient tape: its result has no recorded link to the tensors it read, so
 * comparisons, casts and index arithmetic (which have no gradients in tfjs) can feed masks and
 * indices of differentiable code. tfjs has no `stopGradient`; a customGrad without inputs is one.
 */
export function noGrad<T extends tf.Tensor>(fn: () => T): T {
  return tf.customGrad(() => ({ value: fn(), gradFunc: () => [] }))() as T;
}
