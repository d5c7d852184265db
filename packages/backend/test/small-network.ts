import * as tf from '@tensorflow/tfjs-core';
import { seededUniform } from '@cvm/test-utils';
import { expect } from 'vitest';

/**
 * Three steps of the optimizer `makeOptimizer` makes on a small convolutional network (conv, ReLU, strided conv, a layer
 * norm, a dense layer, softmax) from seeded weights on the active backend: the losses and the final
 * weights. Disposes the optimizer; asserts that no tensor is left behind.
 */
export async function trainSmallNetwork(makeOptimizer: () => tf.Optimizer): Promise<Float32Array[]> {
  const before = tf.memory().numTensors;
  const optimizer = makeOptimizer();
  const shapes = [[3, 3, 16, 16], [3, 3, 16, 24], [24], [6 * 8 * 24, 10]];
  const vars = shapes.map((shape, i) =>
    tf.tidy(() => tf.variable(seededUniform(shape, 21 + i), true, `small${i}`)),
  );
  const [w1, w2, gamma, dense] = vars as [tf.Variable, tf.Variable, tf.Variable, tf.Variable];
  const x = seededUniform([2, 12, 16, 16], 25);
  const target = tf.tidy(() => tf.softmax(seededUniform([2, 10], 26)));
  const loss = () =>
    tf.tidy(() => {
      let h = tf.relu(tf.conv2d(x as tf.Tensor4D, w1 as tf.Tensor4D, 1, 'same'));
      h = tf.conv2d(h, w2 as tf.Tensor4D, 2, 'same');
      const { mean, variance } = tf.moments(h, -1, true);
      h = tf.mul(tf.mul(tf.sub(h, mean), tf.rsqrt(tf.add(variance, 1e-5))), gamma);
      const p = tf.softmax(tf.matMul(tf.reshape(h, [2, -1]), dense));
      return tf.mean(tf.square(tf.sub(p, target))) as tf.Scalar;
    });
  const losses: number[] = [];
  for (let i = 0; i < 3; i++) {
    const l = optimizer.minimize(loss, true, vars)!;
    losses.push((await l.data())[0]!);
    l.dispose();
  }
  const out = [
    Float32Array.from(losses),
    ...(await Promise.all(vars.map((v) => v.data() as Promise<Float32Array>))),
  ];
  optimizer.dispose();
  tf.dispose([...vars, x, target]);
  expect(tf.memory().numTensors).toBe(before);
  return out;
}
