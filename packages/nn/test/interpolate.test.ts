import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import { useWebGPUForTests } from '@cvm/backend';
import { expectClose, finiteDifferenceGradient } from '@cvm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { interpolateBilinear } from '../src/index.js';
import { FIXTURES, Fixture } from './helpers.js';

let fx: Fixture;
let cases: Record<string, { in: number[]; size: [number, number] }>;
beforeAll(async () => {
  await tf.setBackend('cpu');
  fx = new Fixture('train.safetensors');
  cases = JSON.parse(JSON.parse(readFileSync(join(FIXTURES, 'train.meta.json'), 'utf8')).interp);
});

async function checkAll(backend: string): Promise<void> {
  for (const [name, c] of Object.entries(cases)) {
    const x = fx.tensor(`interp.${name}.x`);
    const g = fx.tensor(`interp.${name}.g`);
    const before = tf.memory().numTensors;
    const y = interpolateBilinear(x, c.size);
    const [dx] = tf.grads((xx: tf.Tensor) => tf.sum(tf.mul(interpolateBilinear(xx, c.size), g)))([x]);
    expect(y.shape, `${backend} ${name}`).toEqual(fx.shape(`interp.${name}.y`));
    expectClose(await y.data(), fx.values(`interp.${name}.y`), { atol: 1e-5 });
    expectClose(await dx.data(), fx.values(`interp.${name}.dx`), { atol: 1e-5 });
    tf.dispose([y, dx]);
    expect(tf.memory().numTensors, `${backend} ${name} leaks`).toBe(before);
    tf.dispose([x, g]);
  }
}

describe('interpolateBilinear = F.interpolate(bilinear, align_corners=False)', () => {
  it('value and gradient on cpu (up, down, mixed, odd sizes, to 1x1)', async () => {
    await checkAll('cpu');
  });

  it("tfjs's own resizeBilinear gradient differs from PyTorch's (why this op exists)", async () => {
    // Square, since tfjs 4.22's cpu ResizeBilinearGrad also swaps H and W for non-square inputs.
    const x = tf.randomUniform([1, 4, 4, 1], -1, 1, 'float32', 1);
    const g = tf.randomUniform([1, 8, 8, 1], -1, 1, 'float32', 2);
    const [stock] = tf.grads((xx: tf.Tensor) =>
      tf.sum(tf.mul(tf.image.resizeBilinear(xx as tf.Tensor4D, [8, 8], false, true), g)),
    )([x]);
    const [ours] = tf.grads((xx: tf.Tensor) => tf.sum(tf.mul(interpolateBilinear(xx, [8, 8]), g)))([x]);
    const a = await stock.data();
    const b = await ours.data();
    expect(Math.max(...a.map((v, i) => Math.abs(v - b[i])))).toBeGreaterThan(0.1);
    tf.dispose([x, g, stock, ours]);
  });

  it('gradient agrees with finite differences', async () => {
    const x = tf.randomUniform([1, 5, 3, 2], -1, 1, 'float32', 3);
    const w = tf.randomUniform([1, 2, 7, 2], -1, 1, 'float32', 4);
    const [dx] = tf.grads((xx: tf.Tensor) => tf.sum(tf.mul(interpolateBilinear(xx, [2, 7]), w)))([x]);
    const fd = await finiteDifferenceGradient((xx) => interpolateBilinear(xx, [2, 7]), x, w);
    expectClose(await dx.data(), fd, { atol: 1e-3 });
    tf.dispose([x, w, dx]);
  });

  it('rejects bad arguments', () => {
    expect(() => interpolateBilinear(tf.zeros([2, 3, 3]), [4, 4])).toThrow(/x must be \[B,H,W,C\]/);
    expect(() => interpolateBilinear(tf.zeros([1, 3, 3, 1]), [0, 4])).toThrow(/size must be/);
  });

  it('value and gradient on webgpu (SwiftShader)', async () => {
    if (!(await useWebGPUForTests())) return;
    await checkAll('webgpu');
    await tf.setBackend('cpu');
  });
});
