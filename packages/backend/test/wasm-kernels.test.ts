import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { expectClose, seededUniform } from '@cvm/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerWasmBackend, wasmThreadsCount } from '../src/index.js';
import { backpropFilterRoute } from '../src/wasm/kernels/conv2d-backprop-filter.js';
import { expectSameAsCpu, on, valueAndGrads } from './compare-backends.js';
import { CONV_CASES } from './conv-cases.js';
import { trainSmallNetwork } from './small-network.js';

beforeAll(async () => {
  tf.env().set('IS_TEST', true); // the engine then checks each kernel for leaked intermediates
  await registerWasmBackend({ threads: 2 });
  await tf.setBackend('wasm');
});

afterAll(() => {
  // Ends the pthread workers so that the process can exit.
  tf.removeBackend('wasm');
});

describe('wasm training kernels against cpu', () => {
  it('runs both filter-gradient routes among the cases', () => {
    const routes = CONV_CASES.map((c) => backpropFilterRoute(c.x[3]!, c.co, ...c.k, ...c.s));
    expect(routes.filter((r) => r === 'taps').length).toBeGreaterThanOrEqual(3);
    expect(routes.filter((r) => r === 'conv').length).toBeGreaterThanOrEqual(3);
  });

  for (const [i, c] of CONV_CASES.entries()) {
    it(`conv2d value and gradients: x ${c.x}, k ${c.k}, stride ${c.s}, pad ${c.pad}`, async () => {
      const op = (x: tf.Tensor, w: tf.Tensor) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.s, c.pad);
      await expectSameAsCpu('wasm', valueAndGrads(op, c.x, [...c.k, c.x[3]!, c.co], 10 * i));
    });
  }

  // tfjs-core 4.22's BatchMatMul gradient does not reduce broadcast batch axes (it fails on cpu too),
  // so broadcast products are compared by value only.
  type MatMul = { a: number[]; b: number[]; ta: boolean; tb: boolean; broadcast?: boolean };
  const matMuls: MatMul[] = [
    { a: [5, 7], b: [7, 3], ta: false, tb: false },
    { a: [7, 5], b: [7, 3], ta: true, tb: false },
    { a: [5, 7], b: [3, 7], ta: false, tb: true },
    { a: [7, 5], b: [3, 7], ta: true, tb: true },
    { a: [2, 3, 5, 7], b: [1, 7, 4], ta: false, tb: false, broadcast: true },
    { a: [4, 5, 7], b: [1, 4, 7], ta: false, tb: true, broadcast: true },
    { a: [1, 7, 5], b: [3, 7, 4], ta: true, tb: false, broadcast: true },
    { a: [3, 6, 5], b: [3, 6, 4], ta: true, tb: false },
    { a: [2, 64, 48], b: [2, 64, 40], ta: true, tb: false }, // per-matrix XNNPACK path
    { a: [2, 64, 48], b: [2, 40, 48], ta: false, tb: true },
    { a: [2, 3, 64, 48], b: [2, 3, 48, 40], ta: false, tb: false },
  ];
  for (const [i, c] of matMuls.entries()) {
    it(`matMul value${c.broadcast ? '' : ' and gradients'}: a ${c.a}${c.ta ? 'ᵀ' : ''}, b ${c.b}${c.tb ? 'ᵀ' : ''}`, async () => {
      const op = (a: tf.Tensor, b: tf.Tensor) => tf.matMul(a, b, c.ta, c.tb);
      await expectSameAsCpu('wasm', valueAndGrads(op, c.a, c.b, 100 + 10 * i, !c.broadcast));
    });
  }
});

describe('wasm heap kernels against cpu', () => {
  const x = () => seededUniform([3, 5, 4, 6], 11);
  const cases: [string, () => tf.Tensor[]][] = [
    ['Slice inner window', () => [tf.slice(x(), [1, 2, 1, 3], [2, 3, 2, 2])]],
    ['Slice of full trailing axes', () => [tf.slice(x(), [1, 1, 0, 0], [2, 3, -1, -1])]],
    [
      'Slice rank 1 and 2',
      () => [tf.slice(tf.range(0, 10), 3, 4), tf.slice(tf.reshape(x(), [15, 24]), [2, 5], [7, 9])],
    ],
    ['Slice of int32', () => [tf.slice(tf.cast(tf.mul(x(), 100), 'int32'), [0, 1, 1, 0], [3, 2, 2, 6])]],
    ['SplitV', () => tf.split(x(), [1, 3, 1], 1)],
    ['SplitV last axis', () => tf.split(x(), 3, 3)],
    ['Unpack', () => tf.unstack(x(), 2)],
    ['Tile of every axis', () => [tf.tile(x(), [2, 1, 3, 2])]],
    ['Tile of the first axis', () => [tf.tile(tf.slice(x(), [0, 0, 0, 0], [1, 5, 4, 6]), [4, 1, 1, 1])]],
    [
      'Tile rank 1 and of int32',
      () => [tf.tile(tf.range(0, 5), [3]), tf.tile(tf.cast(x(), 'int32'), [1, 2, 1, 1])],
    ],
    ['Tile gradient', () => tf.grads((a: tf.Tensor) => tf.sum(tf.square(tf.tile(a, [2, 1, 1, 3]))))([x()])],
    [
      'Identity (clone) and its gradient',
      () => [tf.clone(x()), ...tf.grads((a: tf.Tensor) => tf.sum(tf.clone(a)))([x()])],
    ],
    [
      'Slice gradient',
      () => tf.grads((a: tf.Tensor) => tf.sum(tf.square(tf.slice(a, [1, 0, 1, 2], [2, 5, 2, 3]))))([x()]),
    ],
  ];
  for (const [name, f] of cases) {
    it(`${name} matches cpu exactly`, async () => {
      const g = () => tf.tidy(() => f().map((t) => tf.cast(t, 'float32')));
      const cpu = await on('cpu', g);
      const wasm = await on('wasm', g);
      expect(wasm.length).toBe(cpu.length);
      for (let i = 0; i < cpu.length; i++) expect(Array.from(wasm[i]!)).toEqual(Array.from(cpu[i]!));
    });
  }
});

/** Brings the wasm backend up again with `threads` threads (variables do not survive this). */
async function useWasmThreads(threads: number): Promise<void> {
  tf.removeBackend('wasm');
  await registerWasmBackend({ threads });
  await tf.setBackend('wasm');
  expect(await wasmThreadsCount()).toBe(threads);
}

describe('wasm Identity', () => {
  it('shares the data: a clone outlives its source, and nothing leaks', async () => {
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const a = seededUniform([4, 5], 3);
    const expected = Array.from(await a.data());
    const b = tf.clone(a);
    a.dispose();
    expect(Array.from(await b.data())).toEqual(expected);
    b.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('wasm threads', () => {
  it('gives the same results with 1 and 2 threads', async () => {
    const f = () =>
      tf.tidy(() => {
        const convGrads = valueAndGrads(
          (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, 'same'),
          [2, 32, 40, 16],
          [3, 3, 16, 32],
          7,
        )();
        const mm = valueAndGrads((a, b) => tf.matMul(a, b, true, false), [300, 200], [300, 150], 9)();
        return [...convGrads, ...mm];
      });
    await useWasmThreads(2);
    const two = await on('wasm', f);
    await useWasmThreads(1);
    const one = await on('wasm', f);
    for (let i = 0; i < one.length; i++) expectClose(two[i]!, one[i]!, { atol: 0 });
  });

  it('trains the small model as the cpu backend does', async () => {
    await tf.setBackend('cpu');
    const cpu = await trainSmallNetwork(() => tf.train.adam(1e-4));
    await useWasmThreads(2);
    const wasm = await trainSmallNetwork(() => tf.train.adam(1e-4));
    for (let i = 0; i < cpu.length; i++) expectClose(wasm[i]!, cpu[i]!, { atol: 1e-5 });
  });

  it('trains a small model to the same weights with 1 and 2 threads', async () => {
    await useWasmThreads(2);
    const two = await trainSmallNetwork(() => tf.train.adam(1e-4));
    await useWasmThreads(1);
    const one = await trainSmallNetwork(() => tf.train.adam(1e-4));
    expect(one[0]![2]).toBeLessThan(one[0]![0]!); // the steps do train
    for (let i = 0; i < one.length; i++) expect(Array.from(two[i]!)).toEqual(Array.from(one[i]!));
  });

  it('rejects a thread count that is not a positive integer', async () => {
    await expect(registerWasmBackend({ threads: 0 })).rejects.toThrow(
      /threads must be a positive integer, got 0/,
    );
  });
});
