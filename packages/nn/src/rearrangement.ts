import * as tf from '@tensorflow/tfjs-core';

/**
 * Wraps a pure rearrangement of elements (roll, window partition, their inverses) so that autodiff
 * keeps nothing for it: its gradient is `inverse(dy)`. Built from slices and concats, a rearrangement
 * otherwise keeps every sliced input alive until the backward pass ends.
 * @param rearrange the forward, e.g. `(x) => roll(x, 3, 1)`
 * @param inverse its inverse on a tensor of the output's shape, e.g. `(y) => roll(y, -3, 1)`
 * @returns `rearrange` with that gradient
 */
export function rearrangement(
  rearrange: (x: tf.Tensor) => tf.Tensor,
  inverse: (y: tf.Tensor) => tf.Tensor,
): (x: tf.Tensor) => tf.Tensor {
  return tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => ({
    value: rearrange(args[0] as tf.Tensor),
    gradFunc: (dy: tf.Tensor | tf.Tensor[]) => inverse(dy as tf.Tensor),
  })) as (x: tf.Tensor) => tf.Tensor;
}
