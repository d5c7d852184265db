import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { expectClose } from '@cvm/test-utils';
import { type GridSampleOptions, gridSample } from '../src/index.js';
import type { GridSampleMode, GridSamplePaddingMode } from '../src/kernel-names.js';

/** One PyTorch reference case written by `fixtures/make_grid_sample.py` (arrays NHWC, flattened). */
export interface GridSampleCase {
  name: string;
  mode: GridSampleMode;
  paddingMode: GridSamplePaddingMode;
  alignCorners: boolean;
  inputShape: [number, number, number, number];
  gridShape: [number, number, number, number];
  input: number[];
  grid: number[];
  dy: number[];
  output: number[];
  dx: number[];
  dgrid: number[];
}

export const fixtureCases: GridSampleCase[] = JSON.parse(
  readFileSync(new URL('./fixtures/grid_sample.json', import.meta.url), 'utf8'),
).cases;

/**
 * Runs one case forward and backward with `implementation` on the active backend and compares with
 * PyTorch: forward ≤ 1e-5, gradients ≤ 1e-4 absolute. Asserts no tensor is leaked.
 */
export async function checkAgainstFixture(
  c: GridSampleCase,
  implementation: GridSampleOptions['implementation'],
): Promise<void> {
  const before = tf.memory().numTensors;
  const x = tf.tensor4d(c.input, c.inputShape);
  const grid = tf.tensor4d(c.grid, c.gridShape);
  const dy = tf.tensor(c.dy, [...c.gridShape.slice(0, 3), c.inputShape[3]]);
  const options: GridSampleOptions = {
    mode: c.mode,
    paddingMode: c.paddingMode,
    alignCorners: c.alignCorners,
    implementation,
  };
  const out = gridSample(x, grid, options);
  const [dx, dgrid] = tf.grads((a: tf.Tensor, g: tf.Tensor) =>
    tf.sum(tf.mul(gridSample(a as tf.Tensor4D, g as tf.Tensor4D, options), dy)),
  )([x, grid]);
  const [o, gx, gg] = await Promise.all([out.data(), dx.data(), dgrid.data()]);
  tf.dispose([x, grid, dy, out, dx, dgrid]);
  expect(tf.memory().numTensors - before, 'tensors leaked').toBe(0);
  expectClose(o, c.output, { atol: 1e-5 });
  expectClose(gx, c.dx, { atol: 1e-4 });
  expectClose(gg, c.dgrid, { atol: 1e-4 });
}

import { expect } from 'vitest';
