import '@tensorflow/tfjs-backend-cpu';
import { expectClose, expectErrorWithoutLeaks, expectNoLeaks, seededUniform } from '@cvm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { BatchNorm2d, Conv2d, checkpointedGradients, passThrough, type Segment } from '../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
  tf.env().set('IS_TEST', true);
});

describe('checkpointedGradients', () => {
  // A small DAG cut into a chain: a tensor passed through two segments, a segment with two outputs,
  // a variable used by several segments, an input used again (through the state) at the end.
  const w1 = tf.variable(seededUniform([6, 6], 1));
  const w2 = tf.variable(seededUniform([6, 6], 2));
  const b = tf.variable(seededUniform([6], 3));
  const segments: Segment[] = [
    ([x, y]) => [x, tf.tanh(tf.add(tf.matMul(y, w1), b))],
    passThrough(1, ([h]) => [tf.sigmoid(tf.matMul(h, w2)), tf.sin(h)]),
    ([x, p, q]) => [x, tf.add(tf.mul(p, q), tf.matMul(q, w1))],
    ([x, r]) => {
      const loss = tf.add(tf.sum(tf.square(r)), tf.sum(tf.mul(x, r)));
      return [loss, tf.mean(r), r]; // aux: not differentiated; r made by the segment before
    },
  ];
  const whole = (x: tf.Tensor, y: tf.Tensor): tf.Scalar => {
    let state: tf.Tensor[] = [x, y];
    for (const s of segments) state = s(state);
    return state[0] as tf.Scalar;
  };

  it('equals the gradients of the whole pass, for variables and inputs, without leaks', async () => {
    const x = seededUniform([4, 6], 4);
    const y = seededUniform([4, 6], 5);
    const want = tf.engine().gradients(() => whole(x, y), [w1, w2, b, x, y]);
    const got = await expectNoLeaks(() => checkpointedGradients(segments, [x, y], [w1, w2, b, x, y]));
    expectClose(await got.value.data(), await want.value.data(), { atol: 1e-6, rtol: 1e-6 });
    for (const [i, g] of got.grads.entries()) {
      expect(g, `grad ${i}`).not.toBeNull();
      expect(g!.shape).toEqual(want.grads[i].shape);
      expectClose(await g!.data(), await want.grads[i].data(), { atol: 1e-5, rtol: 1e-5 });
    }
    expect(got.aux).toHaveLength(2);
    expect(got.aux[0].rank).toBe(0);
    expect(got.aux[1].isDisposed).toBe(false);
    tf.dispose([x, y, want.value, ...want.grads, got.value, ...got.aux, ...(got.grads as tf.Tensor[])]);
  });

  it('gives null for what the value does not depend on, and leaves inputs and variables alive', async () => {
    const unused = tf.variable(tf.ones([2]));
    const x = seededUniform([4, 6], 6);
    const { value, grads, aux } = await expectNoLeaks(() =>
      checkpointedGradients([([a]) => [tf.relu(tf.matMul(a, w1))], ([h]) => [tf.sum(h)]], [x], [unused, w1]),
    );
    expect(grads[0]).toBeNull();
    expect(grads[1]!.shape).toEqual([6, 6]);
    expect(x.isDisposed || w1.isDisposed || unused.isDisposed).toBe(false);
    tf.dispose([x, unused, value, grads[1]!, ...aux]);
  });

  it('rejects a last segment that does not return a scalar, leaking nothing', () => {
    const x = tf.ones([2, 6]);
    expectErrorWithoutLeaks(
      () => checkpointedGradients([([a]) => [tf.matMul(a, w1)]], [x], [w1]),
      /last segment must return \[scalar/,
    );
    expectErrorWithoutLeaks(() => checkpointedGradients([], [x], [w1]), /non-empty array/);
    x.dispose();
  });
});

describe('checkpointedGradients and layer state', () => {
  it('BatchNorm2d updates its running statistics once per step, as without checkpointing', async () => {
    const make = () => {
      const bn = new BatchNorm2d(3);
      const conv = new Conv2d(2, 3, 3, { padding: 1 });
      return { bn, conv, seg: (([x]) => [bn.forward(conv.forward(x))]) as Segment };
    };
    const a = make();
    const b = make();
    b.conv.weight.assign(a.conv.weight);
    b.conv.bias!.assign(a.conv.bias!);
    const x = seededUniform([2, 5, 6, 2], 9);
    const loss: Segment = ([y]) => [tf.sum(tf.square(y))];
    const plain = tf.variableGrads(() => loss(a.seg([x]))[0] as tf.Scalar, a.conv.parameters());
    const ckpt = checkpointedGradients([b.seg, loss], [x], b.conv.parameters());
    for (const [name, v] of a.bn.namedBuffers()) {
      expectClose(await b.bn.stateDict()[name].data(), await v.data(), { atol: 1e-6 });
    }
    expect((await b.bn.numBatchesTracked!.data())[0]).toBe(1);
    expectClose(await ckpt.grads[0]!.data(), await plain.grads[a.conv.weight.name].data(), { atol: 1e-5 });
    tf.dispose([x, plain.value, ...Object.values(plain.grads), ckpt.value, ...(ckpt.grads as tf.Tensor[])]);
  });
});
