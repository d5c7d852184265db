import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import { expectClose, expectNoLeaks } from '@cvm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { AdamW, BatchNorm2d, clipGradNorm, loadStateDict, polynomialLR } from '../src/index.js';
import { FIXTURES, Fixture } from './helpers.js';

let fx: Fixture;
beforeAll(async () => {
  await tf.setBackend('cpu');
  fx = new Fixture('train.safetensors');
});

async function close(t: tf.Tensor, name: string, atol = 1e-5): Promise<void> {
  expect(t.shape).toEqual(fx.shape(name));
  expectClose(await t.data(), fx.values(name), { atol, rtol: 1e-5 });
}

describe('BatchNorm2d matches torch.nn.BatchNorm2d', () => {
  it('three training steps (outputs, running stats, num_batches_tracked), a gradient, then eval', async () => {
    const bn = new BatchNorm2d(5);
    expect(bn.namedEntries().map((e) => e.name)).toEqual([
      'weight',
      'bias',
      'running_mean',
      'running_var',
      'num_batches_tracked',
    ]);
    const init = Object.fromEntries(bn.namedEntries().map((e) => [e.name, fx.tensor(`bn.init.${e.name}`)]));
    loadStateDict(bn, init);
    tf.dispose(Object.values(init));
    for (let step = 0; step < 3; step++) {
      const x = fx.tensor(`bn.step${step}.x`);
      let y: tf.Tensor | null = null;
      if (step === 0) {
        // One forward with gradients (so the running statistics move once, as in PyTorch).
        const g = fx.tensor('bn.step0.g');
        const xv = tf.variable(x);
        const w = bn.weight as tf.Variable;
        const b = bn.bias as tf.Variable;
        const { value, grads } = tf.variableGrads(() => {
          y = tf.keep(bn.forward(xv));
          return tf.sum(tf.mul(y, g)) as tf.Scalar;
        }, [xv, w, b]);
        await close(grads[xv.name], 'bn.step0.dx', 1e-4);
        await close(grads[w.name], 'bn.step0.dweight', 1e-4);
        await close(grads[b.name], 'bn.step0.dbias', 1e-4);
        tf.dispose([g, xv, value, ...Object.values(grads)]);
      }
      y ??= bn.forward(x);
      await close(y, `bn.step${step}.y`, 1e-4);
      for (const e of bn.namedEntries()) await close(e.variable, `bn.step${step}.${e.name}`);
      tf.dispose([x, y]);
    }
    bn.eval();
    const x = fx.tensor('bn.eval.x');
    const g = fx.tensor('bn.eval.g');
    const before = await bn.runningMean?.data();
    await close(bn.forward(x), 'bn.eval.y', 1e-4);
    const [dx] = tf.grads((xx: tf.Tensor) => tf.sum(tf.mul(bn.forward(xx), g)))([x]);
    await close(dx, 'bn.eval.dx', 1e-4);
    expect(await bn.runningMean?.data()).toEqual(before);
    expect((await bn.numBatchesTracked?.data())?.[0]).toBe(3);
    bn.dispose();
  });

  it('leaks no tensors in training mode and rejects bad input', async () => {
    const bn = new BatchNorm2d(3);
    const x = tf.randomNormal([2, 4, 4, 3]);
    await expectNoLeaks(() => {
      bn.forward(x).dispose();
    });
    expect(() => bn.forward(tf.zeros([2, 4, 4, 2]))).toThrow(/BatchNorm2d: x must be \[B,H,W,3\]/);
    expect(() => bn.forward(tf.zeros([1, 1, 1, 3]))).toThrow(/more than one value per channel/);
    x.dispose();
    bn.dispose();
  });
});

describe('AdamW + polynomialLR + clipGradNorm match torch over 5 steps', () => {
  it('parameters, learning rates, norms and final moments', async () => {
    const meta = JSON.parse(JSON.parse(readFileSync(join(FIXTURES, 'train.meta.json'), 'utf8')).opt);
    const names = ['conv.weight', 'conv.bias', 'norm.weight'];
    const vars = names.map((n) => tf.variable(fx.tensor(`opt.init.${n}`)));
    const opt = new AdamW(
      names.map((n, i) => [n, vars[i]] as const),
      { lr: meta.lr, weightDecay: meta.weight_decay },
    );
    const before = tf.memory().numTensors;
    for (let step = 0; step < meta.T; step++) {
      opt.lr = polynomialLR(meta.lr, step, meta.T);
      expect(opt.lr).toBeCloseTo(meta.lrs[step], 12);
      const raw = Object.fromEntries(names.map((n) => [n, fx.tensor(`opt.step${step}.grad.${n}`)]));
      const { grads, totalNorm } = clipGradNorm(raw, meta.max_norm);
      expectClose(await totalNorm.data(), [meta.norms[step]], { rtol: 1e-5 });
      opt.step(grads);
      tf.dispose([...Object.values(raw), ...Object.values(grads), totalNorm]);
      for (let i = 0; i < names.length; i++) await close(vars[i], `opt.step${step}.param.${names[i]}`, 2e-6);
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(polynomialLR(meta.lr, meta.T, meta.T)).toBe(0);
    const state = opt.stateDict();
    for (const n of names) {
      await close(state[`${n}.exp_avg`], `opt.final.${n}.exp_avg`, 1e-6);
      await close(state[`${n}.exp_avg_sq`], `opt.final.${n}.exp_avg_sq`, 1e-6);
      expect((await state[`${n}.step`].data())[0]).toBe(meta.T);
    }
    // Save/load by name: a fresh optimizer restored from the state continues identically.
    const copies = vars.map((v) => tf.variable(tf.clone(v)));
    const restored = new AdamW(
      names.map((n, i) => [n, copies[i]] as const),
      { lr: 0.01, weightDecay: meta.weight_decay },
    );
    await restored.loadStateDict(state);
    opt.lr = 0.01;
    const g = Object.fromEntries(names.map((n, i) => [n, tf.onesLike(vars[i])]));
    opt.step(g);
    restored.step(g);
    for (let i = 0; i < names.length; i++)
      expectClose(await copies[i].data(), await vars[i].data(), { atol: 0 });
    await expect(restored.loadStateDict({ 'nope.exp_avg': g['conv.bias'] })).rejects.toThrow(
      /names no parameter/,
    );
    expect(() => opt.step({ 'conv.bias': tf.zeros([4]) })).toThrow(/is \[4\], the parameter is \[3\]/);
    tf.dispose([...Object.values(state), ...Object.values(g), ...vars, ...copies]);
    opt.dispose();
    restored.dispose();
  });

  it('AdamW leaves no tensor behind once disposed', () => {
    const w = tf.variable(tf.ones([2, 3]));
    const before = tf.memory().numTensors;
    const opt = new AdamW([['w', w]]);
    opt.step({ w: tf.onesLike(w) });
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before + 1); // the gradient above, still the caller's
    w.dispose();
  });

  it('clipGradNorm leaves small gradients unchanged and accepts arrays', async () => {
    const g = [tf.tensor1d([3, 0]), tf.tensor1d([0, 4])];
    const a = clipGradNorm(g, 10);
    expectClose(await a.grads[1].data(), [0, 4], { atol: 0 });
    const b = clipGradNorm(g, 1);
    expectClose(await b.totalNorm.data(), [5]);
    expectClose(await b.grads[0].data(), [3 / (5 + 1e-6), 0], { atol: 1e-7 });
    expect(() => clipGradNorm(g, 0)).toThrow(/maxNorm/);
    tf.dispose([...g, ...a.grads, ...b.grads, a.totalNorm, b.totalNorm]);
  });
});
