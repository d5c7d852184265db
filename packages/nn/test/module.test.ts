import '@tensorflow/tfjs-backend-cpu';
import { expectNoLeaks } from '@cvm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  Conv2d,
  fanInFanOut,
  Generator,
  initParameter,
  kaimingNormal,
  Linear,
  Module,
  ModuleDict,
  ModuleList,
  manualSeed,
  truncNormal,
  xavierUniform,
} from '../src/index.js';
import { TinyNet } from './tiny-net.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
  tf.env().set('IS_TEST', true);
});

class WithBuffer extends Module {
  readonly scale: tf.Variable;
  readonly count: tf.Variable;
  readonly inner: Linear;
  constructor() {
    super();
    // Child registered before own parameters: PyTorch still lists own parameters first.
    this.inner = this.registerModule('inner', new Linear(2, 3));
    this.scale = this.registerParameter('scale', tf.ones([3]));
    this.count = this.registerBuffer('count', tf.zeros([1]));
  }
}

describe('Module', () => {
  it('names parameters by dotted path in PyTorch order, with counts', () => {
    const net = new TinyNet();
    const names = net.namedParameters().map(([n]) => n);
    expect(names).toEqual([
      'stem.weight',
      'dw.weight',
      'dw.bias',
      ...[0, 1].flatMap((i) => [
        `blocks.${i}.norm.weight`,
        `blocks.${i}.norm.bias`,
        ...['w1', 'w2', 'w3'].flatMap((w) => [`blocks.${i}.mlp.${w}.weight`, `blocks.${i}.mlp.${w}.bias`]),
      ]),
      'head.weight',
      'head.bias',
    ]);
    // stem 3·3·3·8, dw 3·3·1·8 + 8, per block LN 16 + w1/w2 2·(8·16+16) + w3 16·8+8, head 8·4+4
    const perBlock = 16 + 2 * (8 * 16 + 16) + (16 * 8 + 8);
    expect(net.numParameters()).toBe(216 + 80 + 2 * perBlock + 36);
    expect(net.parameters().length).toBe(names.length);
    expect(net.stem.weight.shape).toEqual([3, 3, 3, 8]); // tfjs layout, PyTorch name
    expect(new Set(net.parameters().map((v) => v.name)).size).toBe(names.length); // unique tfjs names
    net.dispose();
  });

  it('lists own parameters before children, buffers in stateDict but not parameters', () => {
    const m = new WithBuffer();
    expect(m.namedParameters().map(([n]) => n)).toEqual(['scale', 'inner.weight', 'inner.bias']);
    expect(m.namedBuffers().map(([n]) => n)).toEqual(['count']);
    expect(Object.keys(m.stateDict())).toEqual(['scale', 'count', 'inner.weight', 'inner.bias']);
    expect(m.numParameters()).toBe(3 + 6 + 3);
    expect(m.count.trainable).toBe(false);
    m.dispose();
  });

  it('shared modules and parameters are listed once', () => {
    const shared = new Linear(2, 2);
    const list = new ModuleList([shared, new Linear(2, 2), shared]);
    expect(list.namedParameters().map(([n]) => n)).toEqual(['0.weight', '0.bias', '1.weight', '1.bias']);
    expect(list.length).toBe(3);
    expect(list.get(-1)).toBe(shared);
    expect(() => list.get(3)).toThrow(/out of range/);
    list.dispose();
  });

  it('propagates train/eval to every descendant', () => {
    const net = new TinyNet();
    expect(net.training).toBe(true);
    net.eval();
    expect(net.namedModules().every(([, m]) => !m.training)).toBe(true);
    expect(net.blocks.get(1).mlp.w3.training).toBe(false);
    net.train();
    expect(net.namedModules().every(([, m]) => m.training)).toBe(true);
    expect(net.namedModules().map(([p]) => p)).toContain('blocks.1.mlp.w3');
    net.dispose();
  });

  it('ModuleDict names children by key (digits first allowed) and rejects unknown keys', () => {
    const d = new ModuleDict({ '2_dinov2': new Linear(2, 3), depth: new Linear(3, 1) });
    expect(d.namedParameters().map(([n]) => n)).toEqual([
      '2_dinov2.weight',
      '2_dinov2.bias',
      'depth.weight',
      'depth.bias',
    ]);
    expect(d.keys()).toEqual(['2_dinov2', 'depth']);
    expect(() => d.get('clip')).toThrow(/no key 'clip'.*2_dinov2, depth/);
    expect(() => d.set('depth', new Linear(1, 1))).toThrow(/already registered/);
    d.dispose();
  });

  it('rejects duplicate and dotted names', () => {
    class Bad extends Module {
      constructor(name: string, twice: boolean) {
        super();
        this.registerParameter(name, tf.zeros([1]));
        if (twice) this.registerModule(name, new Linear(1, 1));
      }
    }
    expect(() => new Bad('a.b', false)).toThrow(/no dots/);
    expect(() => new Bad('a', true)).toThrow(/already registered/);
  });

  it('dispose frees every variable; construction and forward leak nothing', async () => {
    const before = tf.memory().numTensors;
    const net = new TinyNet();
    expect(tf.memory().numTensors - before).toBe(net.parameters().length);
    const x = tf.zeros([1, 6, 8, 3]);
    const y = await expectNoLeaks(() => net.forward(x));
    expect(y.shape).toEqual([1, 12, 4]);
    tf.dispose([x, y]);
    net.dispose();
    net.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('initialisers', () => {
  const stats = async (t: tf.Tensor) => {
    const v = (await t.data()) as Float32Array;
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    const variance = v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length;
    return { mean, std: Math.sqrt(variance), min: Math.min(...v), max: Math.max(...v) };
  };

  it('fans follow PyTorch for tfjs layouts', () => {
    expect(fanInFanOut([3, 3, 16, 32])).toEqual({ fanIn: 144, fanOut: 288 });
    expect(fanInFanOut([128, 256])).toEqual({ fanIn: 128, fanOut: 256 });
  });

  it('kaimingNormal (fan_out, relu) has std √2/√fanOut', async () => {
    const t = kaimingNormal([3, 3, 64, 96], { rng: new Generator(1) });
    const s = await stats(t);
    const std = Math.SQRT2 / Math.sqrt(96 * 9);
    expect(Math.abs(s.mean)).toBeLessThan(0.02 * std * 10);
    expect(Math.abs(s.std / std - 1)).toBeLessThan(0.02);
    t.dispose();
  });

  it('xavierUniform stays in ±√(6/(fanIn+fanOut)) with the uniform variance', async () => {
    const t = xavierUniform([128, 512], { rng: new Generator(2) });
    const s = await stats(t);
    const b = Math.sqrt(6 / 640);
    expect(s.min).toBeGreaterThanOrEqual(-b);
    expect(s.max).toBeLessThanOrEqual(b);
    expect(s.max).toBeGreaterThan(0.99 * b);
    expect(Math.abs(s.std / (b / Math.sqrt(3)) - 1)).toBeLessThan(0.02);
    t.dispose();
  });

  it('truncNormal: timm defaults (std 0.02, absolute cut ±2) and a tight cut', async () => {
    const t = truncNormal([20000], { rng: new Generator(3) });
    const s = await stats(t);
    expect(Math.abs(s.std / 0.02 - 1)).toBeLessThan(0.03);
    const cut = truncNormal([20000], { std: 1, a: -1, b: 0.5, rng: new Generator(4) });
    const c = await stats(cut);
    expect(c.min).toBeGreaterThanOrEqual(-1);
    expect(c.max).toBeLessThanOrEqual(0.5);
    // Mean of N(0,1) truncated to [-1, 0.5]: (φ(-1) − φ(0.5)) / (Φ(0.5) − Φ(-1)) = −0.2066
    expect(Math.abs(c.mean + 0.2066)).toBeLessThan(0.01);
    tf.dispose([t, cut]);
  });

  it('is seedable: the same seed builds identical models, another seed a different one', async () => {
    manualSeed(7);
    const a = new Conv2d(3, 4, 3);
    manualSeed(7);
    const b = new Conv2d(3, 4, 3);
    manualSeed(8);
    const c = new Conv2d(3, 4, 3);
    expect(Array.from(await a.weight.data())).toEqual(Array.from(await b.weight.data()));
    expect(Array.from(await a.bias!.data())).toEqual(Array.from(await b.bias!.data()));
    expect(Array.from(await a.weight.data())).not.toEqual(Array.from(await c.weight.data()));
    // PyTorch's default init: U(±1/√fanIn), fanIn = 27.
    const w = await a.weight.data();
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(27));
    initParameter(a.weight, kaimingNormal(a.weight.shape, { rng: new Generator(1) }));
    expect(Array.from(await a.weight.data())).not.toEqual(Array.from(w));
    expect(() => initParameter(a.weight, tf.zeros([1]))).toThrow(/shape/);
    for (const m of [a, b, c]) m.dispose();
  });
});
