import '@tensorflow/tfjs-backend-cpu';
import { expectClose, expectNoLeaks } from '@cvm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  Conv2d,
  conv2d,
  fromTorchLayout,
  GELU,
  InstanceNorm2d,
  LayerNorm,
  Linear,
  loadStateDict,
  MultiHeadAttention,
  multiHeadAttention,
  positionEmbeddingSine,
  roll,
  SiLU,
  SwiGLU,
  scaledDotProductAttention,
  shiftedWindowMask,
  windowPartition,
  windowReverse,
} from '../src/index.js';
import { Fixture } from './helpers.js';

let fx: Fixture;
beforeAll(async () => {
  await tf.setBackend('cpu');
  tf.env().set('IS_TEST', true);
  fx = new Fixture('layers.safetensors');
});

/** Loads fixture tensors `${prefix}.${name}` (PyTorch layout) into a module by name. */
function loadFrom(module: Parameters<typeof loadStateDict>[0], prefix: string): void {
  const names = module.namedEntries().map((e) => e.name);
  const tensors = Object.fromEntries(names.map((n) => [n, fx.tensor(`${prefix}.${n}`)]));
  loadStateDict(module, tensors);
  tf.dispose(Object.values(tensors));
}

async function check(actual: tf.Tensor, expectedName: string, atol = 1e-5): Promise<void> {
  expect(actual.shape).toEqual(fx.shape(expectedName));
  expectClose(await actual.data(), fx.values(expectedName), { atol, rtol: 1e-5 });
}

describe('Conv2d matches torch.nn.Conv2d', () => {
  const cases = ['conv_s2', 'conv_stem', 'conv_dil', 'conv_groups', 'conv_dw', 'conv_1x1', 'conv_reflect'];
  for (const name of cases) {
    it(name, async () => {
      const c = JSON.parse(fx.contents.metadata.cases)[name];
      const conv = new Conv2d(c.cin, c.cout, c.k, {
        stride: c.stride,
        padding: c.padding,
        dilation: c.dilation,
        groups: c.groups,
        bias: c.bias,
        paddingMode: c.padding_mode,
      });
      loadFrom(conv, name);
      const x = fx.tensor(`${name}.x`);
      const y = await expectNoLeaks(() => conv.forward(x));
      await check(y, `${name}.y`, 1e-5);
      tf.dispose([x, y]);
      conv.dispose();
    });
  }

  it('differs from TF "same" padding for stride 2 on even inputs (the reason for explicit padding)', async () => {
    const x = fx.tensor('conv_groups.x'); // 8x8, even
    const w = fromTorchLayout('w', fx.tensor('conv_s2.weight'), 'conv2d'); // 3 -> 4 channels
    const x3 = tf.slice(x, [0, 0, 0, 0], [2, 8, 8, 3]) as tf.Tensor4D;
    const ours = conv2d(x3, w, null, { stride: 2, padding: 1 });
    const same = tf.conv2d(x3, w as tf.Tensor4D, 2, 'same');
    expect(ours.shape).toEqual(same.shape);
    const diff = tf.max(tf.abs(tf.sub(ours, same)));
    expect((await diff.data())[0]).toBeGreaterThan(1e-3);
    tf.dispose([x, w, x3, ours, same, diff]);
  });

  it('rejects bad arguments with clear errors', () => {
    expect(() => new Conv2d(4, 6, 3, { groups: 4 })).toThrow(/groups=4 must divide/);
    expect(() => new Conv2d(4, 6, 3, { stride: 0 })).toThrow(/stride/);
    const conv = new Conv2d(3, 4, 3);
    const x = tf.zeros([1, 5, 5, 2]);
    expect(() => conv.forward(x)).toThrow(/2 channels/);
    const small = tf.zeros([1, 2, 2, 3]);
    expect(() => conv.forward(small)).toThrow(/smaller than/);
    tf.dispose([x, small]);
    conv.dispose();
  });
});

describe('other layers match PyTorch', () => {
  it('Linear', async () => {
    const m = new Linear(5, 4);
    loadFrom(m, 'linear');
    const x = fx.tensor('linear.x');
    const y = await expectNoLeaks(() => m.forward(x));
    await check(y, 'linear.y');
    tf.dispose([x, y]);
    m.dispose();
  });

  it('LayerNorm (affine, eps 1e-5)', async () => {
    const m = new LayerNorm(6);
    loadFrom(m, 'layernorm');
    const x = fx.tensor('layernorm.x');
    const y = await expectNoLeaks(() => m.forward(x));
    await check(y, 'layernorm.y', 2e-5);
    tf.dispose([x, y]);
    m.dispose();
  });

  it('InstanceNorm2d (no affine, biased variance)', async () => {
    const m = new InstanceNorm2d(3);
    expect(m.numParameters()).toBe(0);
    const x = fx.tensor('instancenorm.x');
    const y = await expectNoLeaks(() => m.forward(x));
    await check(y, 'instancenorm.y', 2e-5);
    tf.dispose([x, y]);
  });

  it('GELU (exact erf) and SiLU', async () => {
    const x = fx.tensor('act.x');
    const g = await expectNoLeaks(() => new GELU().forward(x));
    const s = await expectNoLeaks(() => new SiLU().forward(x));
    await check(g, 'act.gelu', 1e-6);
    await check(s, 'act.silu', 1e-6);
    // The tanh approximation differs by ~1e-4 at x = 2: make sure we are not using it.
    const v = (await g.data())[40]; // x = 2
    expect(Math.abs(v - 1.9544997)).toBeLessThan(1e-6); // 1 + erf(√2); tanh form gives 1.95460
    tf.dispose([x, g, s]);
  });

  it('SwiGLU w3(silu(w1 x) * w2 x)', async () => {
    const m = new SwiGLU(6, 10, 5);
    expect(m.namedParameters().map(([n]) => n)).toEqual([
      'w1.weight',
      'w1.bias',
      'w2.weight',
      'w2.bias',
      'w3.weight',
      'w3.bias',
    ]);
    loadFrom(m, 'swiglu');
    const x = fx.tensor('swiglu.x');
    const y = await expectNoLeaks(() => m.forward(x));
    await check(y, 'swiglu.y');
    tf.dispose([x, y]);
    m.dispose();
  });

  it('MultiHeadAttention with an additive mask matches nn.MultiheadAttention', async () => {
    const m = new MultiHeadAttention(8, 2);
    loadFrom(m, 'mha');
    const [q, k, v, mask] = ['q', 'k', 'v', 'mask'].map((n) => fx.tensor(`mha.${n}`));
    const y = await expectNoLeaks(() => m.forward(q, k, v, { mask }));
    await check(y, 'mha.y');
    tf.dispose([q, k, v, mask, y]);
    m.dispose();
  });

  it('scaledDotProductAttention equals a plain-loop softmax attention', async () => {
    const [b, lq, lk, d, dv] = [2, 3, 4, 5, 2];
    const rnd = (n: number, s: number) =>
      Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + s) * 1.7);
    const qv = rnd(b * lq * d, 1);
    const kv = rnd(b * lk * d, 2);
    const vv = rnd(b * lk * dv, 3);
    const mv = rnd(lq * lk, 4).map((x) => (x > 1 ? -100 : x));
    const q = tf.tensor(qv, [b, lq, d]);
    const k = tf.tensor(kv, [b, lk, d]);
    const v = tf.tensor(vv, [b, lk, dv]);
    const mask = tf.tensor(mv, [lq, lk]);
    const y = await expectNoLeaks(() => scaledDotProductAttention(q, k, v, { mask }));
    const expected: number[] = [];
    for (let n = 0; n < b; n++) {
      for (let i = 0; i < lq; i++) {
        const s = Array.from({ length: lk }, (_, j) => {
          let acc = 0;
          for (let c = 0; c < d; c++) acc += qv[(n * lq + i) * d + c] * kv[(n * lk + j) * d + c];
          return acc / Math.sqrt(d) + mv[i * lk + j];
        });
        const mx = Math.max(...s);
        const e = s.map((x) => Math.exp(x - mx));
        const z = e.reduce((a, c) => a + c, 0);
        for (let c = 0; c < dv; c++) {
          expected.push(e.reduce((acc, p, j) => acc + (p / z) * vv[(n * lk + j) * dv + c], 0));
        }
      }
    }
    expectClose(await y.data(), expected, { atol: 1e-5 });
    // One head of multiHeadAttention is plain attention.
    const y1 = multiHeadAttention(q, k, tf.concat([v, v, v], 2), 1, { mask });
    expect(y1.shape).toEqual([b, lq, 3 * dv]);
    tf.dispose([q, k, v, mask, y, y1]);
  });
});

describe('windows, roll, shifted-window mask (UniMatch)', () => {
  it('windowPartition / windowReverse match split_feature / merge_splits', async () => {
    const x = fx.tensor('window.x');
    const split = await expectNoLeaks(() => windowPartition(x, 2));
    await check(split, 'window.split', 0);
    const merged = windowReverse(split, 2);
    await check(merged, 'window.merged', 0);
    tf.dispose([x, split, merged]);
  });

  it('roll matches torch.roll (negative and positive shifts)', async () => {
    const x = fx.tensor('window.x');
    const r = await expectNoLeaks(() => roll(x, [-2, 5], [1, 2]));
    await check(r, 'window.rolled', 0);
    const r1 = roll(tf.tensor1d([1, 2, 3, 4]), 1, 0);
    expect(Array.from(await r1.data())).toEqual([4, 1, 2, 3]);
    const r2 = roll(tf.tensor1d([1, 2, 3, 4]), -5, -1);
    expect(Array.from(await r2.data())).toEqual([2, 3, 4, 1]);
    tf.dispose([x, r, r1, r2]);
  });

  it('shiftedWindowMask matches generate_shift_window_attn_mask', async () => {
    const m = shiftedWindowMask(8, 12, [4, 6], [2, 3]);
    await check(m, 'window.mask', 0);
    m.dispose();
  });

  /** UniMatch's single_head_split_window_attention from our pieces. */
  function windowAttention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, shift: boolean): tf.Tensor {
    return tf.tidy(() => {
      const [b, h, w, c, s] = [2, 8, 12, 4, 2];
      const [wh, ww] = [h / s, w / s];
      const prep = (t: tf.Tensor) => {
        let m = tf.reshape(t, [b, h, w, c]);
        if (shift) m = roll(m, [-wh / 2, -ww / 2], [1, 2]);
        return tf.reshape(windowPartition(m, s), [b * s * s, wh * ww, c]);
      };
      let mask: tf.Tensor | undefined;
      if (shift) mask = tf.tile(shiftedWindowMask(h, w, [wh, ww], [wh / 2, ww / 2]), [b, 1, 1]);
      const o = scaledDotProductAttention(prep(q), prep(k), prep(v), { mask });
      let merged: tf.Tensor = windowReverse(tf.reshape(o, [b * s * s, wh, ww, c]), s);
      if (shift) merged = roll(merged, [wh / 2, ww / 2], [1, 2]);
      return tf.reshape(merged, [b, h * w, c]);
    });
  }

  it('shifted and plain window attention match UniMatch single_head_split_window_attention', async () => {
    const [q, k, v] = ['q', 'k', 'v'].map((n) => fx.tensor(`window.${n}`));
    const shifted = await expectNoLeaks(() => windowAttention(q, k, v, true));
    await check(shifted, 'window.attn_shift', 1e-5);
    const plain = windowAttention(q, k, v, false);
    await check(plain, 'window.attn_noshift', 1e-5);
    tf.dispose([q, k, v, shifted, plain]);
  });

  it('shifted-window attention equals brute-force masked attention over the whole map', async () => {
    // Brute force: token p attends to token r iff they fall in the same window of the rolled map and
    // in the same Swin region there; the −100 of the mask is reproduced exactly, cross-window pairs excluded.
    const [q, k, v] = ['q', 'k', 'v'].map((n) => fx.tensor(`window.${n}`));
    const [b, h, w, c] = [2, 8, 12, 4];
    const [wh, ww, sh, sw] = [4, 6, 2, 3];
    const qv = await q.data();
    const kv = await k.data();
    const vv = await v.data();
    const region = (i: number, n: number, win: number, s: number) => (i < n - win ? 0 : i < n - s ? 1 : 2);
    const rolledPos = (p: number) => {
      const [y, x] = [Math.floor(p / w), p % w];
      return [(y - sh + h) % h, (x - sw + w) % w];
    };
    const expected = new Float32Array(b * h * w * c);
    for (let n = 0; n < b; n++) {
      for (let p = 0; p < h * w; p++) {
        const [py, px] = rolledPos(p);
        const scores: number[] = [];
        const idx: number[] = [];
        for (let r = 0; r < h * w; r++) {
          const [ry, rx] = rolledPos(r);
          if (Math.floor(ry / wh) !== Math.floor(py / wh) || Math.floor(rx / ww) !== Math.floor(px / ww))
            continue;
          let dot = 0;
          for (let ch = 0; ch < c; ch++) dot += qv[(n * h * w + p) * c + ch] * kv[(n * h * w + r) * c + ch];
          const same =
            region(py, h, wh, sh) === region(ry, h, wh, sh) &&
            region(px, w, ww, sw) === region(rx, w, ww, sw);
          scores.push(dot / Math.sqrt(c) + (same ? 0 : -100));
          idx.push(r);
        }
        const mx = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - mx));
        const z = e.reduce((a, x) => a + x, 0);
        for (let ch = 0; ch < c; ch++) {
          expected[(n * h * w + p) * c + ch] = idx.reduce(
            (acc, r, j) => acc + (e[j] / z) * vv[(n * h * w + r) * c + ch],
            0,
          );
        }
      }
    }
    const shifted = windowAttention(q, k, v, true);
    expectClose(await shifted.data(), expected, { atol: 1e-5 });
    tf.dispose([q, k, v, shifted]);
  });

  it('window helpers reject indivisible sizes', () => {
    const x = tf.zeros([1, 7, 8, 2]);
    expect(() => windowPartition(x, 2)).toThrow(/not divisible/);
    expect(() => shiftedWindowMask(7, 8, 4, 2)).toThrow(/multiple of the window/);
    expect(() => shiftedWindowMask(8, 8, 4, 4)).toThrow(/smaller than the window/);
    x.dispose();
  });
});

describe('positionEmbeddingSine', () => {
  it('matches PositionEmbeddingSine(normalize=True, scale=2π)', async () => {
    const p = positionEmbeddingSine(6, 9, 8);
    await check(p, 'pos.y', 2e-6);
    p.dispose();
  });
});
