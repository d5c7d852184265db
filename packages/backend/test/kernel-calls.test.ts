import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { seededUniform } from '@cvm/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { recordKernelCalls, timeKernelCall } from '../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('recordKernelCalls', () => {
  it('lists each distinct call with its shapes, attributes and count, and restores the kernels', async () => {
    const conv = tf.getKernel('Conv2D', 'cpu')!.kernelFunc;
    const x = seededUniform([1, 6, 7, 3], 1) as tf.Tensor4D;
    const w = seededUniform([3, 3, 3, 4], 2) as tf.Tensor4D;
    const a = seededUniform([5, 4], 3);
    const { result, kernels } = await recordKernelCalls(() =>
      tf.tidy(() => {
        tf.conv2d(x, w, 2, 'same');
        const p = tf.matMul(a, a, true, false);
        const q = tf.matMul(a, a, true, false);
        return tf.addN([p, q, p]).shape;
      }),
    );
    expect(result).toEqual([4, 4]);
    const byKernel = (name: string) => kernels.filter((k) => k.kernel === name);
    const [c] = byKernel('Conv2D');
    expect(c).toMatchObject({
      calls: 1,
      inputs: [
        { name: 'x', shape: [1, 6, 7, 3], dtype: 'float32' },
        { name: 'filter', shape: [3, 3, 3, 4], dtype: 'float32' },
      ],
      attrs: { strides: 2, pad: 'same' },
    });
    const mm = byKernel('BatchMatMul');
    expect(mm).toHaveLength(1); // both products are the same call
    expect(mm[0]!.calls).toBe(2);
    expect(mm[0]!.attrs).toMatchObject({ transposeA: true, transposeB: false });
    expect(byKernel('AddN')[0]!.inputs.map((i) => i.name)).toEqual(['0', '1', '2']);
    for (const k of kernels) expect(k.ms).toBeGreaterThanOrEqual(0);
    expect(tf.getKernel('Conv2D', 'cpu')!.kernelFunc).toBe(conv);
    tf.dispose([x, w, a]);
  });

  it('restores the kernels when the computation throws', async () => {
    const add = tf.getKernel('Add', 'cpu')!.kernelFunc;
    await expect(
      recordKernelCalls(() => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(tf.getKernel('Add', 'cpu')!.kernelFunc).toBe(add);
  });
});

describe('timeKernelCall', () => {
  it('re-runs recorded calls (named and list inputs) and leaves no tensors', async () => {
    const a = seededUniform([5, 4], 3);
    const { kernels } = await recordKernelCalls(() =>
      tf.tidy(() => tf.addN([tf.matMul(a, a, false, true), tf.ones([5, 5])]).shape),
    );
    const before = tf.memory().numTensors;
    for (const k of kernels) expect(timeKernelCall(k, { budgetMs: 5 })).toBeGreaterThanOrEqual(0);
    expect(tf.memory().numTensors).toBe(before);
    a.dispose();
  });
});
