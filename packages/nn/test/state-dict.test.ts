import '@tensorflow/tfjs-backend-cpu';
import { expectClose, expectNoLeaks } from '@cvm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  fromTorchLayout,
  loadModuleSafetensors,
  loadSafetensors,
  loadStateDict,
  manualSeed,
  moduleToSafetensors,
  readSafetensors,
  torchStateDict,
  toTorchLayout,
} from '../src/index.js';
import { Fixture, fixtureBytes } from './helpers.js';
import { TinyNet } from './tiny-net.js';

let io: Fixture;
beforeAll(async () => {
  await tf.setBackend('cpu');
  tf.env().set('IS_TEST', true);
  io = new Fixture('tiny_io.safetensors');
});

async function output(net: TinyNet): Promise<Float32Array> {
  const x = io.tensor('x');
  const y = net.forward(x);
  const v = (await y.data()) as Float32Array;
  tf.dispose([x, y]);
  return v;
}

describe('a PyTorch state dict (safetensors.torch.save_file layout) loads by name', () => {
  for (const dtype of ['f32', 'f16', 'bf16']) {
    it(`${dtype}: same output as the PyTorch module`, async () => {
      const bytes = fixtureBytes(`tiny_${dtype}.safetensors`);
      const net = new TinyNet().eval();
      // The file lists keys in PyTorch's state_dict order: ours is the same.
      expect(net.namedParameters().map(([n]) => n)).toEqual(Object.keys(readSafetensors(bytes).tensors));
      const report = await expectNoLeaks(() => loadModuleSafetensors(net, bytes));
      expect(report).toMatchObject({ missing: [], unexpected: [], mismatched: [] });
      expect(report.loaded.length).toBe(net.parameters().length);
      expectClose(await output(net), io.values(`y_${dtype}`), { atol: 2e-5, rtol: 1e-4 });
      net.dispose();
    });
  }

  it('the three dtypes give measurably different references (so each test checks its own decoding)', () => {
    const a = io.values('y_f32');
    for (const d of ['y_f16', 'y_bf16']) {
      const b = io.values(d);
      expect(Math.max(...a.map((v, i) => Math.abs(v - b[i])))).toBeGreaterThan(1e-4);
    }
  });

  it('saving writes PyTorch layout and names: the F32 file round-trips byte-identical values', async () => {
    const bytes = fixtureBytes('tiny_f32.safetensors');
    const net = new TinyNet();
    loadModuleSafetensors(net, bytes);
    const saved = readSafetensors(await moduleToSafetensors(net)).tensors;
    const original = readSafetensors(bytes).tensors;
    expect(Object.keys(saved)).toEqual(Object.keys(original));
    for (const [name, t] of Object.entries(original)) {
      expect(saved[name].shape, name).toEqual(t.shape);
      expect(Array.from(saved[name].values), name).toEqual(Array.from(t.values));
    }
    expect(saved['stem.weight'].shape).toEqual([8, 3, 3, 3]);
    net.dispose();
  });

  it('save → load into a differently initialised module gives identical outputs', async () => {
    manualSeed(1);
    const a = new TinyNet();
    manualSeed(2);
    const b = new TinyNet();
    const before = await output(b);
    for (const dtype of ['F32', 'BF16'] as const) {
      loadModuleSafetensors(b, await moduleToSafetensors(a, { dtype }));
      const ya = await output(a);
      const yb = await output(b);
      if (dtype === 'F32') expect(Array.from(yb)).toEqual(Array.from(ya));
      else expectClose(yb, ya, { atol: 0.05 });
      expect(Array.from(yb)).not.toEqual(Array.from(before));
    }
    a.dispose();
    b.dispose();
  });
});

describe('loadStateDict reports', () => {
  function torchTensors(): Record<string, tf.Tensor> {
    return loadSafetensors(fixtureBytes('tiny_f32.safetensors'));
  }

  it('strict: missing, unexpected and mismatched keys throw, listing them, and nothing is assigned', async () => {
    const net = new TinyNet();
    const headBefore = Array.from(await net.head.weight.data());
    const t = torchTensors();
    const dropped = t['blocks.1.mlp.w3.bias'];
    delete t['blocks.1.mlp.w3.bias'];
    t['blocks.0.extra'] = tf.zeros([2]);
    const wrong = t['dw.bias'];
    t['dw.bias'] = tf.zeros([7]);
    let message = '';
    try {
      loadStateDict(net, t);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/nothing was loaded/);
    expect(message).toMatch(/missing keys \(1\): blocks\.1\.mlp\.w3\.bias/);
    expect(message).toMatch(/unexpected keys \(1\): blocks\.0\.extra/);
    expect(message).toMatch(/dw\.bias expected \[8\] got \[7\]/);
    expect(Array.from(await net.head.weight.data())).toEqual(headBefore);

    const report = await expectNoLeaks(() => loadStateDict(net, t, { strict: false }));
    expect(report.missing).toEqual(['blocks.1.mlp.w3.bias']);
    expect(report.unexpected).toEqual(['blocks.0.extra']);
    expect(report.mismatched).toEqual([{ name: 'dw.bias', expected: [8], got: [7] }]);
    expect(report.loaded.length).toBe(net.parameters().length - 2);
    expect(Array.from(await net.head.weight.data())).not.toEqual(headBefore);
    tf.dispose([dropped, wrong, ...Object.values(t)]);
    net.dispose();
  });

  it("layout: 'tfjs' loads module.stateDict(); in 'torch' layout the same tensors mismatch", async () => {
    const a = new TinyNet();
    const b = new TinyNet();
    const r = loadStateDict(b, a.stateDict(), { strict: false });
    expect(r.mismatched.map((m) => m.name)).toContain('stem.weight');
    expect(r.mismatched.find((m) => m.name === 'stem.weight')).toEqual({
      name: 'stem.weight',
      expected: [8, 3, 3, 3],
      got: [3, 3, 3, 8],
    });
    loadStateDict(b, a.stateDict(), { layout: 'tfjs' });
    expect(Array.from(await output(b))).toEqual(Array.from(await output(a)));
    const sd = torchStateDict(a);
    expect(sd['head.weight'].shape).toEqual([4, 8]);
    tf.dispose(Object.values(sd));
    a.dispose();
    b.dispose();
  });
});

describe('layout conversion', () => {
  it('conv [out,in,kh,kw] → [kh,kw,in,out] and Linear [out,in] → [in,out], element by element', async () => {
    const [o, i, kh, kw] = [3, 2, 4, 5];
    const torch = tf.tidy(() => tf.reshape(tf.range(0, o * i * kh * kw), [o, i, kh, kw]));
    const ours = fromTorchLayout('w', torch, 'conv2d');
    expect(ours.shape).toEqual([kh, kw, i, o]);
    const v = await ours.data();
    for (let a = 0; a < o; a++)
      for (let b = 0; b < i; b++)
        for (let y = 0; y < kh; y++)
          for (let x = 0; x < kw; x++) {
            expect(v[((y * kw + x) * i + b) * o + a]).toBe(((a * i + b) * kh + y) * kw + x);
          }
    const back = toTorchLayout('w', ours, 'conv2d');
    expect(Array.from(await back.data())).toEqual(Array.from(await torch.data()));
    const lin = tf.tensor2d([
      [1, 2, 3],
      [4, 5, 6],
    ]); // [out=2, in=3]
    const l = fromTorchLayout('l', lin, 'linear');
    expect(await l.array()).toEqual([
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
    expect(() => fromTorchLayout('stem.weight', lin, 'conv2d')).toThrow(/'stem\.weight' has shape \[2,3\]/);
    tf.dispose([torch, ours, back, lin, l]);
  });
});
