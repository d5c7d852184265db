import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { expectClose, seededUniform } from '@cvm/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { cpuConv2DBackpropFilterConfig, registerCpuTrainingKernels, selectBackend } from '../src/index.js';
import { CONV_CASES } from './conv-cases.js';

/** tfjs's own cpu kernel, captured before it is replaced: the reference. */
let stock: tf.KernelConfig;

beforeAll(async () => {
  stock = tf.getKernel(tf.Conv2DBackpropFilter, 'cpu')!;
  await tf.setBackend('cpu');
  tf.env().set('IS_TEST', true);
});

function filterGrad(
  kernel: tf.KernelConfig,
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  attrs: tf.NamedAttrMap,
): tf.Tensor {
  const backend = tf.backend();
  const info = kernel.kernelFunc({ inputs: { x, dy }, backend, attrs }) as tf.TensorInfo;
  return tf.engine().makeTensorFromTensorInfo(info);
}

describe('cpu Conv2DBackpropFilter', () => {
  for (const [i, c] of CONV_CASES.entries()) {
    it(`matches tfjs's kernel: x ${c.x}, k ${c.k}, stride ${c.s}, pad ${c.pad}`, () => {
      const filterShape = [...c.k, c.x[3]!, c.co];
      const x = seededUniform(c.x, 10 * i) as tf.Tensor4D;
      const w = tf.zeros(filterShape) as unknown as tf.Tensor4D;
      const probe = tf.conv2d(x, w, c.s, c.pad);
      const outShape = probe.shape as number[];
      probe.dispose();
      const dy = seededUniform(outShape, 10 * i + 1) as tf.Tensor4D;
      const attrs = { strides: c.s, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape };
      const before = tf.memory().numTensors;
      const ours = filterGrad(cpuConv2DBackpropFilterConfig, x, dy, attrs as unknown as tf.NamedAttrMap);
      const theirs = filterGrad(stock, x, dy, attrs as unknown as tf.NamedAttrMap);
      expect(ours.shape).toEqual(filterShape);
      expectClose(ours.dataSync(), theirs.dataSync(), { atol: 1e-5 });
      tf.dispose([ours, theirs]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, w, dy]);
    });
  }

  it('is registered by selectBackend and used by conv2d gradients', async () => {
    await selectBackend(['cpu']);
    registerCpuTrainingKernels(); // idempotent
    expect(tf.getKernel(tf.Conv2DBackpropFilter, 'cpu')?.kernelFunc).toBe(
      cpuConv2DBackpropFilterConfig.kernelFunc,
    );
    const x = seededUniform([1, 14, 18, 16], 1) as tf.Tensor4D;
    const w = seededUniform([3, 3, 16, 16], 2) as tf.Tensor4D;
    const dw = tf.grad((v: tf.Tensor) => tf.sum(tf.conv2d(x, v as tf.Tensor4D, 1, 'same')))(w);
    const dy = tf.onesLike(tf.conv2d(x, w, 1, 'same')) as tf.Tensor4D;
    const reference = filterGrad(stock, x, dy, {
      strides: [1, 1],
      pad: 'same',
      dataFormat: 'NHWC',
      filterShape: [3, 3, 16, 16],
    } as unknown as tf.NamedAttrMap);
    expectClose(dw.dataSync(), reference.dataSync(), { atol: 1e-3 });
    tf.dispose([x, w, dw, dy, reference]);
  });
});
