import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { expectClose, seededUniform } from '@cvm/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CPU_XNNPACK,
  OFFLOADED_KERNELS,
  registerCpuXnnpackBackend,
  selectBackend,
  syncCpuXnnpackKernels,
} from '../src/index.js';
import type { HostBackend } from '../src/cpu-xnnpack/offload.js';
import { expectSameAsCpu, on, valueAndGrads } from './compare-backends.js';
import { CONV_CASES } from './conv-cases.js';
import { trainSmallNetwork } from './small-network.js';

const heap = () => tf.engine().registry.wasm as BackendWasm;

beforeAll(async () => {
  tf.env().set('IS_TEST', true); // the engine then checks each kernel for leaked intermediates
  // A kernel some package registered for cpu before the backend exists: it must be carried over.
  tf.registerKernel({
    kernelName: 'CvmTestDouble',
    backendName: 'cpu',
    kernelFunc: ({ inputs, backend }) => {
      const x = inputs.x as tf.TensorInfo;
      const cpu = backend as HostBackend;
      return cpu.makeTensorInfo(
        x.shape,
        'float32',
        (cpu.readSync(x.dataId) as Float32Array).map((v) => 2 * v),
      );
    },
  });
  await registerCpuXnnpackBackend({ threads: 2 });
});

afterAll(() => {
  tf.removeBackend(CPU_XNNPACK);
  tf.removeBackend('wasm'); // ends the pthread workers so that the process can exit
  tf.unregisterKernel('CvmTestDouble', 'cpu');
});

describe('cpu-xnnpack backend', () => {
  it('is selected by name, says what it runs on, and keeps tensors off the wasm heap', async () => {
    const choice = await selectBackend([CPU_XNNPACK]);
    expect(choice.name).toBe(CPU_XNNPACK);
    expect(choice.why).toMatch(/JS memory.*XNNPACK \(2 thread\(s\)\)/);
    expect(tf.getBackend()).toBe(CPU_XNNPACK);
    const heapBefore = heap().numDataIds();
    const big = tf.zeros([1 << 20]);
    expect(heap().numDataIds()).toBe(heapBefore);
    big.dispose();
  });

  it('has every cpu kernel, with the heavy ones replaced', () => {
    const cpu = tf.getKernelsForBackend('cpu');
    const mine = new Map(tf.getKernelsForBackend(CPU_XNNPACK).map((k) => [k.kernelName, k]));
    for (const k of cpu) expect(mine.has(k.kernelName), k.kernelName).toBe(true);
    for (const name of OFFLOADED_KERNELS) {
      expect(mine.get(name)!.kernelFunc).not.toBe(tf.getKernel(name, 'cpu')!.kernelFunc);
    }
    expect(mine.get('Exp')!.kernelFunc).toBe(tf.getKernel('Exp', 'cpu')!.kernelFunc);
  });

  it('runs a package kernel registered for cpu before it was created', async () => {
    const [y] = await on(CPU_XNNPACK, () => {
      const x = tf.tensor1d([1, 2, 3]);
      const out = tf.engine().runKernel('CvmTestDouble', { x }) as tf.Tensor;
      x.dispose();
      return [out];
    });
    expect(Array.from(y!)).toEqual([2, 4, 6]);
  });

  it('takes kernels registered for cpu later when synced', () => {
    tf.registerKernel({ kernelName: 'CvmTestLate', backendName: 'cpu', kernelFunc: () => ({}) as never });
    expect(tf.getKernel('CvmTestLate', CPU_XNNPACK)).toBeUndefined();
    syncCpuXnnpackKernels();
    expect(tf.getKernel('CvmTestLate', CPU_XNNPACK)).toBeDefined();
    tf.unregisterKernel('CvmTestLate', 'cpu');
    tf.unregisterKernel('CvmTestLate', CPU_XNNPACK);
  });
});

describe('cpu-xnnpack kernels against cpu', () => {
  for (const [i, c] of CONV_CASES.entries()) {
    it(`conv2d value and gradients: x ${c.x}, k ${c.k}, stride ${c.s}, pad ${c.pad}`, async () => {
      const op = (x: tf.Tensor, w: tf.Tensor) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.s, c.pad);
      await expectSameAsCpu(CPU_XNNPACK, valueAndGrads(op, c.x, [...c.k, c.x[3]!, c.co], 10 * i));
    });
  }

  const matMuls = [
    { a: [5, 7], b: [7, 3], ta: false, tb: false },
    { a: [7, 5], b: [3, 7], ta: true, tb: true },
    { a: [2, 64, 48], b: [2, 64, 40], ta: true, tb: false },
    { a: [2, 3, 64, 48], b: [2, 3, 48, 40], ta: false, tb: false },
  ];
  for (const [i, c] of matMuls.entries()) {
    it(`matMul value and gradients: a ${c.a}${c.ta ? 'ᵀ' : ''}, b ${c.b}${c.tb ? 'ᵀ' : ''}`, async () => {
      const op = (a: tf.Tensor, b: tf.Tensor) => tf.matMul(a, b, c.ta, c.tb);
      await expectSameAsCpu(CPU_XNNPACK, valueAndGrads(op, c.a, c.b, 100 + 10 * i));
    });
  }

  it('fused matMul and conv with bias and relu, and a depthwise conv', async () => {
    await expectSameAsCpu(CPU_XNNPACK, () =>
      tf.tidy(() => {
        const a = seededUniform([6, 8], 1);
        const b = seededUniform([8, 5], 2);
        const x = seededUniform([1, 7, 9, 4], 3) as tf.Tensor4D;
        const w = seededUniform([3, 3, 4, 6], 4) as tf.Tensor4D;
        return [
          tf.fused.matMul({ a, b, bias: seededUniform([5], 5), activation: 'relu' }),
          tf.fused.conv2d({
            x,
            filter: w,
            strides: 1,
            pad: 'same',
            bias: seededUniform([6], 6),
            activation: 'relu',
          }),
          tf.depthwiseConv2d(x, seededUniform([3, 3, 4, 2], 7) as tf.Tensor4D, 2, 'valid'),
        ];
      }),
    );
  });

  it('int32 matMul stays int32 and exact beyond float32 (cpu runs it)', async () => {
    await tf.setBackend(CPU_XNNPACK);
    const a = tf.tensor2d([[4096, 1]], [1, 2], 'int32');
    const b = tf.tensor2d([[4097], [3]], [2, 1], 'int32');
    const y = tf.matMul(a, b);
    expect(y.dtype).toBe('int32');
    expect(Array.from(await y.data())).toEqual([4096 * 4097 + 3]); // 16781315: float32 would give …16
    tf.dispose([a, b, y]);
  });
});

describe('cpu-xnnpack runs on cpu what the heap would get wrong', () => {
  const cases: [string, () => tf.Tensor[]][] = [
    [
      'rank 7 broadcast arithmetic and padding (XNNPACK stops at rank 6)',
      () => {
        const x = tf.reshape(tf.range(0, 2 * 3 * 64), [2, 1, 3, 1, 4, 4, 4]);
        const c = tf.reshape(tf.range(0, 2 * 5), [1, 2, 1, 5, 1, 1, 1]);
        return [
          tf.add(x, c),
          tf.mul(x, c),
          tf.pad(tf.reshape(tf.range(0, 8), [1, 1, 2, 1, 2, 1, 2]), [
            [0, 0],
            [0, 0],
            [1, 0],
            [0, 0],
            [0, 1],
            [0, 0],
            [1, 1],
          ]),
        ];
      },
    ],
    [
      'reductions of an empty tensor (wasm leaves its output unwritten)',
      () => {
        tf.dispose(tf.matMul(seededUniform([64, 64], 1), seededUniform([64, 64], 2))); // leaves data on the heap
        return [tf.sum(tf.zeros([4096, 0]), 1), tf.mean(tf.zeros([4, 0]), 1)];
      },
    ],
    [
      'fused matMul with a broadcast bias, PReLU slopes per row, and NaN through ReLU',
      () => {
        const a = seededUniform([4, 3], 1);
        const b = seededUniform([3, 5], 2);
        const nan = tf.tensor2d([[Number.NaN, 1, 2]]);
        return [
          tf.fused.matMul({ a, b, bias: tf.tensor1d([0.5]) }),
          tf.fused.matMul({
            a,
            b: tf.neg(b),
            activation: 'prelu',
            preluActivationWeights: tf.tensor2d([[0.5], [0.25], [1], [2]]),
          }),
          tf.fused.matMul({ a: nan, b, activation: 'relu' }),
          tf.fused.matMul({
            a,
            b,
            bias: seededUniform([5], 3),
            activation: 'leakyrelu',
            leakyreluAlpha: 0.3,
          }),
          tf.fused.conv2d({
            x: seededUniform([1, 5, 6, 3], 4) as tf.Tensor4D,
            filter: seededUniform([3, 3, 3, 4], 5) as tf.Tensor4D,
            strides: 1,
            pad: 'same',
            bias: tf.scalar(0.25),
            activation: 'elu',
          }),
        ];
      },
    ],
  ];
  for (const [name, f] of cases) {
    it(name, async () => {
      const cpu = await on('cpu', () => tf.tidy(f));
      const offloaded = await on(CPU_XNNPACK, () => tf.tidy(f));
      expect(offloaded.length).toBe(cpu.length);
      const finite = (a: Float32Array) => a.map((v) => (Number.isNaN(v) ? 0 : v));
      for (let i = 0; i < cpu.length; i++) {
        // NaN where cpu has NaN (wasm's fused ReLU would give 0), values within XNNPACK's rounding.
        expect(Array.from(offloaded[i]!, Number.isNaN)).toEqual(Array.from(cpu[i]!, Number.isNaN));
        expectClose(finite(offloaded[i]!), finite(cpu[i]!), {
          atol: 1e-5 * Math.max(1, ...Array.from(finite(cpu[i]!), Math.abs)),
        });
      }
    });
  }
});

describe('cpu-xnnpack layout and broadcast kernels against cpu', () => {
  const x = () => seededUniform([3, 5, 4, 6], 11);
  const cases: [string, () => tf.Tensor[]][] = [
    ['Slice, SplitV', () => [tf.slice(x(), [1, 2, 1, 3], [2, 3, 2, 2]), ...tf.split(x(), [1, 3, 1], 1)]],
    [
      'Transpose, PadV2, Tile',
      () => [
        tf.transpose(x(), [0, 3, 1, 2]),
        tf.pad(x(), [
          [0, 0],
          [1, 2],
          [0, 1],
          [0, 0],
        ]),
        tf.tile(x(), [1, 2, 1, 3]),
      ],
    ],
    [
      'broadcast Add, Sub, Multiply, RealDiv',
      () => {
        const c = seededUniform([6], 12);
        const r = seededUniform([3, 1, 4, 1], 13);
        return [tf.add(x(), c), tf.sub(r, x()), tf.mul(x(), r), tf.div(x(), tf.add(c, 2))];
      },
    ],
    ['Sum, Mean over inner and outer axes', () => [tf.sum(x(), [1, 2]), tf.mean(x(), 0, true), tf.sum(x())]],
    [
      'rank 6 (cpu runs what wasm refuses)',
      () => {
        const y = tf.reshape(x(), [3, 5, 2, 2, 3, 2]);
        return [tf.transpose(y, [5, 4, 3, 2, 1, 0]), tf.slice(y, [1, 0, 1, 0, 1, 0], [2, 3, 1, 2, 2, 1])];
      },
    ],
  ];
  for (const [name, f] of cases) {
    it(name, async () => {
      await expectSameAsCpu(CPU_XNNPACK, () => tf.tidy(f), 1e-6);
    });
  }
});

describe('training on cpu-xnnpack', () => {
  it("gives cpu's losses and weights over three SGD steps, leaving nothing behind", async () => {
    // SGD: an update proportional to the gradient shows its errors as they are (Adam's
    // normalisation would amplify the float differences of the smallest gradients).
    await tf.setBackend('cpu');
    const cpu = await trainSmallNetwork(() => tf.train.sgd(0.5));
    await tf.setBackend(CPU_XNNPACK);
    const heapBefore = heap().numDataIds();
    const offloaded = await trainSmallNetwork(() => tf.train.sgd(0.5));
    expect(heap().numDataIds()).toBe(heapBefore);
    for (let i = 0; i < cpu.length; i++) {
      expectClose(offloaded[i]!, cpu[i]!, { atol: 1e-5 * Math.max(1, ...Array.from(cpu[i]!, Math.abs)) });
    }
  });
});

describe('cpu-xnnpack registration', () => {
  it('makes the backend that was active before active again, and shares concurrent calls', async () => {
    await tf.setBackend('cpu');
    await Promise.all([registerCpuXnnpackBackend({ threads: 2 }), registerCpuXnnpackBackend({ threads: 2 })]);
    expect(tf.getBackend()).toBe('cpu');
  });
});

describe('cpu-xnnpack errors', () => {
  it('names the missing wasm backend once it is removed, and comes back when registered again', async () => {
    await tf.setBackend(CPU_XNNPACK);
    const x = tf.ones([1, 4, 4, 2]);
    const w = tf.ones([3, 3, 2, 2]);
    tf.removeBackend('wasm');
    expect(() => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same')).toThrow(
      /wasm backend it runs XNNPACK on was removed; call registerCpuXnnpackBackend\(\) again/,
    );
    await registerCpuXnnpackBackend({ threads: 2 });
    expect(tf.getBackend()).toBe(CPU_XNNPACK);
    const y = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same');
    expect((await y.data())[10]).toBe(18); // pixel (1, 1): 3×3 taps × 2 channels of ones
    tf.dispose([x, w, y]);
  });
});
