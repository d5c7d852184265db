import '@tensorflow/tfjs-backend-cpu';
import { expectClose, expectNoLeaks, seededUniform } from '@cvm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { multiViewWindowAttention, windowPositionEncoding } from '../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Swin region of index i on an axis of length n: [0, n−win) → 0, [n−win, n−shift) → 1, [n−shift, n) → 2. */
function region(i: number, n: number, win: number, shift: number): number {
  if (i < n - win) return 0;
  if (i < n - shift) return 1;
  return 2;
}

/**
 * Brute force, pixel by pixel in original coordinates: a query at (y, x) of view i attends to every
 * pixel of the attended views whose cyclically shifted position falls in the same window, with −100
 * added between different Swin regions; one softmax over all of them.
 *
 * `maskLayout: 'tiled'` instead reproduces MVSplat/DepthSplat's cross-view mask: their keys are laid
 * out position-major with the view fastest (key `pos·(V−1) + j`) but the `[Lw, Lw]` mask is tiled
 * (`repeat(1, 1, V−1)`), so key `pos·(V−1) + j` gets the mask entry of window position
 * `(pos·(V−1) + j) mod Lw` rather than of its own position `pos`.
 */
function bruteForce(
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  [views, h, w, c]: number[],
  splits: number,
  shift: boolean,
  heads: number,
  crossView: boolean,
  maskLayout: 'interleaved' | 'tiled' = 'interleaved',
): Float32Array {
  const winH = h / splits;
  const winW = w / splits;
  const sh = shift ? Math.floor(winH / 2) : 0;
  const sw = shift ? Math.floor(winW / 2) : 0;
  const d = c / heads;
  const out = new Float32Array(q.length);
  const at = (view: number, y: number, x: number) => ((view * h + y) * w + x) * c;
  for (let i = 0; i < views; i++) {
    const attended = crossView ? [...Array(views).keys()].filter((j) => j !== i) : [i];
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const yr = (y - sh + h) % h;
        const xr = (x - sw + w) % w;
        const label = region(yr, h, winH, sh) * 3 + region(xr, w, winW, sw);
        const keys: [number, number][] = []; // [offset, mask]
        for (const [slot, j] of attended.entries()) {
          for (let y2 = 0; y2 < h; y2++) {
            for (let x2 = 0; x2 < w; x2++) {
              const yr2 = (y2 - sh + h) % h;
              const xr2 = (x2 - sw + w) % w;
              if (
                Math.floor(yr2 / winH) !== Math.floor(yr / winH) ||
                Math.floor(xr2 / winW) !== Math.floor(xr / winW)
              )
                continue;
              let label2 = region(yr2, h, winH, sh) * 3 + region(xr2, w, winW, sw);
              if (maskLayout === 'tiled') {
                const pos = (yr2 % winH) * winW + (xr2 % winW);
                const p = (pos * attended.length + slot) % (winH * winW); // the tiled mask's column
                const py = Math.floor(yr / winH) * winH + Math.floor(p / winW);
                const px = Math.floor(xr / winW) * winW + (p % winW);
                label2 = region(py, h, winH, sh) * 3 + region(px, w, winW, sw);
              }
              keys.push([at(j, y2, x2), shift && label2 !== label ? -100 : 0]);
            }
          }
        }
        for (let hd = 0; hd < heads; hd++) {
          const qo = at(i, y, x) + hd * d;
          const scores = keys.map(([ko, m]) => {
            let s = 0;
            for (let e = 0; e < d; e++) s += q[qo + e] * k[ko + hd * d + e];
            return s / Math.sqrt(d) + m;
          });
          const mx = Math.max(...scores);
          const p = scores.map((s) => Math.exp(s - mx));
          const z = p.reduce((a, b) => a + b, 0);
          keys.forEach(([ko], n) => {
            for (let e = 0; e < d; e++) out[qo + e] += (p[n] / z) * v[ko + hd * d + e];
          });
        }
      }
    }
  }
  return out;
}

describe('multiViewWindowAttention', () => {
  const cases = [
    { views: 2, shift: true, heads: 1, crossView: true },
    { views: 3, shift: true, heads: 1, crossView: true },
    { views: 4, shift: true, heads: 2, crossView: true },
    { views: 3, shift: false, heads: 1, crossView: true },
    { views: 3, shift: true, heads: 2, crossView: false },
  ];
  for (const { views, shift, heads, crossView } of cases) {
    it(`equals brute-force masked attention: ${views} views, shift ${shift}, ${heads} head(s), ${crossView ? 'cross-view' : 'self'}`, async () => {
      // 8×12 map, 2×2 windows of 4×6, shift (2, 3): every region pair occurs.
      const shape = [views, 8, 12, 8];
      const [q, k, v] = [1, 2, 3].map((s) => tf.mul(seededUniform(shape, s * 7 + views), 2));
      const out = await expectNoLeaks(() =>
        multiViewWindowAttention(q, k, v, { views, splits: 2, shift, heads, crossView }),
      );
      const expected = bruteForce(
        (await q.data()) as Float32Array,
        (await k.data()) as Float32Array,
        (await v.data()) as Float32Array,
        shape,
        2,
        shift,
        heads,
        crossView,
      );
      expectClose((await out.data()) as Float32Array, expected, { atol: 2e-5 });
      tf.dispose([q, k, v, out]);
    });
  }

  it('the −100 shift mask changes the 3-view result, so the comparisons above exercise its layout', async () => {
    const shape = [3, 8, 12, 8];
    const [q, k, v] = [1, 2, 3].map((s) => tf.mul(seededUniform(shape, s), 3));
    const out = multiViewWindowAttention(q, k, v, { views: 3, splits: 2, shift: true, crossView: true });
    const noMask = bruteForce(
      (await q.data()) as Float32Array,
      (await k.data()) as Float32Array,
      (await v.data()) as Float32Array,
      shape,
      2,
      false,
      1,
      true,
    );
    const o = (await out.data()) as Float32Array;
    expect(Math.max(...o.map((x, i) => Math.abs(x - noMask[i])))).toBeGreaterThan(0.05);
    tf.dispose([q, k, v, out]);
  });

  it("MVSplat/DepthSplat's tiled shift mask is wrong for 3 views (and coincides with the right one for 2)", async () => {
    const data = async (t: tf.Tensor) => (await t.data()) as Float32Array;
    const maxDiff = (a: Float32Array, b: Float32Array) => Math.max(...a.map((x, i) => Math.abs(x - b[i])));
    for (const views of [2, 3]) {
      const shape = [views, 8, 12, 8];
      const [q, k, v] = [1, 2, 3].map((s) => tf.mul(seededUniform(shape, s + 40), 3));
      const args = [await data(q), await data(k), await data(v), shape, 2, true, 1, true] as const;
      const interleaved = bruteForce(...args, 'interleaved');
      const tiled = bruteForce(...args, 'tiled');
      const out = multiViewWindowAttention(q, k, v, { views, splits: 2, shift: true, crossView: true });
      expectClose(await data(out), interleaved, { atol: 2e-5 });
      if (views === 2)
        expect(maxDiff(tiled, interleaved)).toBe(0); // V − 1 = 1: the layouts are the same
      else expect(maxDiff(await data(out), tiled)).toBeGreaterThan(0.1);
      tf.dispose([q, k, v, out]);
    }
  });

  it('rejects maps not divisible into windows, and cross-view attention of one view', () => {
    const x = tf.zeros([2, 9, 12, 8]);
    expect(() =>
      multiViewWindowAttention(x, x, x, { views: 2, splits: 2, shift: false, crossView: true }),
    ).toThrow(/9x12 map is not divisible into 2x2 windows/);
    const y = tf.zeros([1, 8, 12, 8]);
    expect(() =>
      multiViewWindowAttention(y, y, y, { views: 1, splits: 2, shift: false, crossView: true }),
    ).toThrow(/>= 2 views/);
    tf.dispose([x, y]);
  });
});

describe('windowPositionEncoding', () => {
  it('repeats the same window-local DETR encoding in every window', async () => {
    const pe = windowPositionEncoding(8, 12, 16, 2);
    const a = await tf.slice(pe, [0, 0, 0, 0], [1, 4, 6, 16]).data();
    const b = await tf.slice(pe, [0, 4, 6, 0], [1, 4, 6, 16]).data();
    expect(Array.from(b)).toEqual(Array.from(a));
    // window pixel (1, 2): y_e = 2/(4+1e-6)·2π, x_e = 3/(6+1e-6)·2π; channel 0 sin(y_e), 8 sin(x_e), 9 cos(x_e)
    const px = await tf.slice(pe, [0, 5, 8, 0], [1, 1, 1, 16]).data();
    const ye = (2 / (4 + 1e-6)) * 2 * Math.PI;
    const xe = (3 / (6 + 1e-6)) * 2 * Math.PI;
    expectClose([px[0], px[8], px[9]], [Math.sin(ye), Math.sin(xe), Math.cos(xe)], { atol: 1e-6 });
    tf.dispose(pe);
  });
});
