import { describe, expect, it } from 'vitest';
import {
  averagePrecision,
  BoundaryEvaluator,
  boundariesFromLabels,
  boundaryThresholds,
  discOffsets,
  edgeNms,
  prf,
  seismGroundTruth,
  thin,
} from '../src/index.js';

const H = 96;
const W = 128;
const DIAG = Math.hypot(H, W); // 160
const R = 5; // matching radius in pixels used below
const maxDist = R / DIAG;

function blank(): Float64Array {
  return new Float64Array(H * W);
}
/** Draws a straight segment from (x0, y0) along (dx, dy) for n pixels. */
function seg(img: Float64Array, x0: number, y0: number, dx: number, dy: number, n: number, v = 1): void {
  for (let i = 0; i < n; i++) img[(y0 + i * dy) * W + x0 + i * dx] = v;
}
function gtLines(sx = 0, sy = 0, v = 1): Float64Array {
  const g = blank();
  seg(g, 10 + sx, 20 + sy, 1, 0, 90, v); // horizontal
  seg(g, 30 + sx, 35 + sy, 0, 1, 40, v); // vertical
  seg(g, 50 + sx, 40 + sy, 1, 1, 35, v); // diagonal
  return g;
}
// These cases check the matching, so the GT lines are used as drawn (SEISM's GT preparation is tested below).
function evaluate(pred: Float64Array, gt: Float64Array, options = {}) {
  const ev = new BoundaryEvaluator({
    maxDist,
    thresholds: [0.25, 0.5, 0.75],
    nms: false,
    gtPreparation: 'as-is',
    ...options,
  });
  ev.updateSync({ data: pred, shape: [H, W] }, { data: gt, shape: [H, W] });
  return ev.result();
}

describe('boundary matching on synthetic edge maps with known answers', () => {
  it('the disc holds exactly the offsets with d² ≤ r²', () => {
    const { dy, dx } = discOffsets(5);
    let n = 0;
    for (let y = -5; y <= 5; y++) for (let x = -5; x <= 5; x++) if (x * x + y * y <= 25) n++;
    expect(dy.length).toBe(n);
    expect(dy[0]).toBe(0);
    expect(dx[0]).toBe(0); // nearest first
  });

  it('a prediction shifted by less than the tolerance scores F = 1', () => {
    const gt = gtLines();
    for (const [sx, sy] of [
      [0, 0],
      [1, 0],
      [2, -2],
      [3, 4], // d = 5 = r: still within (BSDS keeps d² ≤ r²)
      [-4, 3],
    ]) {
      const res = evaluate(gtLines(sx, sy, 0.9), gt);
      expect(res.odsF).toBe(1);
      expect(res.oisF).toBe(1);
    }
  });

  it('a prediction shifted by more than the tolerance scores F = 0', () => {
    for (const [sx, sy] of [
      [0, 6],
      [0, -6],
      [3, 6],
    ]) {
      // a horizontal line: only the vertical offset sets the distance
      const g = blank();
      seg(g, 10, 20, 1, 0, 90);
      const p = blank();
      seg(p, 10 + sx, 20 + sy, 1, 0, 90, 0.9);
      const res = evaluate(p, g);
      expect(res.odsF).toBe(0);
    }
  });

  it('half shifted within, half beyond the tolerance: P = R = F = 1/2', () => {
    const g = blank();
    seg(g, 10, 20, 1, 0, 80);
    const p = blank();
    seg(p, 10, 22, 1, 0, 40, 0.9); // 2 px away
    seg(p, 50, 28, 1, 0, 40, 0.9); // 8 px away
    const res = evaluate(p, g);
    expect(res.odsP).toBe(0.5);
    expect(res.odsR).toBe(0.5);
    expect(res.odsF).toBe(0.5);
  });

  it('is one-to-one: two predicted lines near one GT line give P = 1/2, R = 1', () => {
    const g = blank();
    seg(g, 10, 40, 1, 0, 80);
    const p = blank();
    seg(p, 10, 38, 1, 0, 80, 0.9);
    seg(p, 10, 42, 1, 0, 80, 0.9);
    const res = evaluate(p, g);
    expect(res.odsR).toBe(1);
    expect(res.odsP).toBe(0.5);
    expect(res.odsF).toBeCloseTo(2 / 3, 12);
  });

  it('thick predictions are thinned before matching (without thinning precision drops)', () => {
    const g = blank();
    seg(g, 10, 40, 1, 0, 100);
    const p = blank();
    for (let d = -1; d <= 1; d++) seg(p, 10, 41 + d, 1, 0, 100, 0.9); // 3 px thick, 1 px off
    const thinned = evaluate(p, g);
    expect(thinned.odsP).toBe(1);
    expect(thinned.odsR).toBeGreaterThan(0.97); // thinning may shorten the ends by a pixel
    const raw = evaluate(p, g, { thin: false });
    expect(raw.odsP).toBeCloseTo(1 / 3, 12);
    expect(raw.odsR).toBe(1);
  });

  it('ODS picks the best threshold, OIS each image’s best, pooled over images', () => {
    const g = blank();
    seg(g, 10, 40, 1, 0, 100);
    // image A: correct line at 0.6 plus a false line at 0.3 (only on at threshold 0.25)
    const a = blank();
    seg(a, 10, 41, 1, 0, 100, 0.6);
    seg(a, 10, 70, 1, 0, 100, 0.3);
    // image B: correct line at 0.3 only
    const b = blank();
    seg(b, 10, 39, 1, 0, 100, 0.3);
    const ev = new BoundaryEvaluator({
      maxDist,
      thresholds: [0.25, 0.5],
      nms: false,
      gtPreparation: 'as-is',
    });
    ev.updateSync({ data: a, shape: [H, W] }, { data: g, shape: [H, W] });
    ev.updateSync({ data: b, shape: [H, W] }, { data: g, shape: [H, W] });
    const r = ev.result();
    // t = 0.25: P = 200/300, R = 1 -> F = 0.8; t = 0.5: P = 1, R = 1/2 -> F = 2/3
    expect(r.f[0]).toBeCloseTo(0.8, 12);
    expect(r.f[1]).toBeCloseTo(2 / 3, 12);
    expect(r.odsF).toBeCloseTo(0.8, 12);
    expect(r.odsThreshold).toBe(0.25);
    // OIS: A at 0.5 (F = 1), B at 0.25 (F = 1) -> pooled F = 1
    expect(r.oisF).toBe(1);
  });

  it('NMS narrows a blurred ridge to a thin line that matches its GT', () => {
    const g = blank();
    seg(g, 10, 40, 1, 0, 100);
    seg(g, 60, 50, 0, 1, 40);
    const p = blank();
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        let v = 0;
        // slightly slanted: an exactly axis-aligned ridge has Oxy = 0, and Piotr's orientation formula
        // atan(Oyy·sign(−Oxy)/(Oxx + 1e-5)) then degenerates to 0 (along the edge) for horizontal ridges
        if (x >= 10 && x < 110) v = Math.max(v, Math.exp(-((y - 40.4 - 0.008 * x) ** 2) / 8));
        if (y >= 50 && y < 90) v = Math.max(v, Math.exp(-((x - 60.3) ** 2) / 8));
        p[y * W + x] = 0.95 * v;
      }
    }
    const n = edgeNms(p, H, W);
    let wide = 0;
    for (let x = 20; x < 100; x++) {
      let col = 0;
      for (let y = 30; y < 50; y++) if (n[y * W + x] > 0.1) col++;
      wide = Math.max(wide, col);
    }
    expect(wide).toBeLessThanOrEqual(2); // ridge of a 5-px-wide blur suppressed to ≤ 2 px
    expect(n[0]).toBe(0); // border fade
    const r = evaluate(p, g, { nms: true, thresholds: 9 });
    expect(r.odsF).toBeGreaterThan(0.95);
    const noNms = evaluate(p, g, { nms: false, thresholds: 9 });
    expect(noNms.odsF).toBeGreaterThan(0.9); // thinning alone also recovers a centre line
  });

  it('8-bit quantisation follows the PNG round trip (v = trunc(255·p), v/255 ≥ t)', () => {
    const g = blank();
    seg(g, 10, 40, 1, 0, 50);
    const p = blank();
    seg(p, 10, 40, 1, 0, 50, 0.2 - 1e-9); // trunc(51 - ε) = 50 -> 50/255 < 0.2
    expect(evaluate(p, g, { thresholds: [0.2] }).odsF).toBe(0);
    expect(evaluate(p, g, { thresholds: [0.2], quantize: false }).odsF).toBe(0);
    const q = blank();
    seg(q, 10, 40, 1, 0, 50, 0.2); // trunc(51) = 51 -> 51/255 = 0.2 ≥ 0.2
    expect(evaluate(q, g, { thresholds: [0.2] }).odsF).toBe(1);
  });
});

describe('boundary helpers', () => {
  it('boundaryThresholds(99) are SAK’s 0.01 … 0.99', () => {
    const t = boundaryThresholds(99);
    expect(t.length).toBe(99);
    t.forEach((v, i) => {
      expect(v).toBe(Number(((i + 1) / 100).toFixed(2)));
    });
  });

  it('prf follows SEISM eval_cont for empty maps', () => {
    expect(prf({ cntR: 0, sumR: 0, cntP: 0, sumP: 5 })).toEqual({ p: 0, r: 1, f: 0 });
    expect(prf({ cntR: 0, sumR: 5, cntP: 0, sumP: 0 })).toEqual({ p: 1, r: 0, f: 0 });
    expect(prf({ cntR: 3, sumR: 6, cntP: 3, sumP: 4 }).f).toBeCloseTo((2 * 0.75 * 0.5) / 1.25, 12);
  });

  it('averagePrecision interpolates precision over the covered recall range', () => {
    // recall 0.2..0.6 with precision 1 -> 41 grid points of 1 -> 0.41
    expect(averagePrecision([0.6, 0.4, 0.2], [1, 1, 1])).toBeCloseTo(0.41, 12);
    // linear precision from 1 at r=0 to 0 at r=1 -> Σ(1 - k/100) / 100 = 0.505
    expect(averagePrecision([0, 1], [1, 0])).toBeCloseTo(0.505, 12);
    expect(averagePrecision([0.5], [1])).toBe(0);
  });

  it('boundariesFromLabels is seg2bmap', () => {
    expect(Array.from(boundariesFromLabels([1, 1, 2, 2], 2, 2))).toEqual([1, 1, 0, 0]);
    // 3x3, left column label 1: boundary on column 0 (east neighbour differs) except the last row
    expect(Array.from(boundariesFromLabels([1, 2, 2, 1, 2, 2, 1, 2, 2], 3, 3))).toEqual([
      1, 0, 0, 1, 0, 0, 1, 0, 0,
    ]);
  });

  it('thin keeps 1-px lines and reduces a bar to its middle line', () => {
    const h = 7;
    const w = 12;
    const line = new Uint8Array(h * w);
    for (let x = 1; x < 11; x++) line[3 * w + x] = 1;
    expect(Array.from(thin(line, h, w))).toEqual(Array.from(line));
    const bar = new Uint8Array(h * w);
    for (let y = 2; y < 5; y++) for (let x = 1; x < 11; x++) bar[y * w + x] = 1;
    const t = thin(bar, h, w);
    let rows = 0;
    for (let y = 0; y < h; y++) {
      let n = 0;
      for (let x = 0; x < w; x++) n += t[y * w + x];
      if (n > 0) rows++;
      if (y !== 3) expect(n).toBeLessThanOrEqual(1);
    }
    expect(rows).toBeGreaterThanOrEqual(1);
    expect(t.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(8);
  });

  it('rejects bad input clearly', () => {
    expect(() => new BoundaryEvaluator({})).toThrow(/dataset: 'nyud' \| 'pascal'\} or \{maxDist\}/);
    expect(() => new BoundaryEvaluator({ dataset: 'nyud', maxDist: 0.02 })).toThrow(/contradicts/);
    const ev = new BoundaryEvaluator({ dataset: 'nyud', thresholds: 3 });
    expect(ev.maxDist).toBe(0.011);
    expect(() =>
      ev.updateSync({ data: [0, 0, 0, 0], shape: [2, 2] }, { data: [0, 2.5, 0, 0], shape: [2, 2] }),
    ).toThrow(/gt: label 2.5 at \[b=0, y=0, x=1\] must be a non-negative integer/);
    const asIs = new BoundaryEvaluator({ dataset: 'nyud', thresholds: 3, gtPreparation: 'as-is' });
    expect(() =>
      asIs.updateSync({ data: [0, 0, 0, 0], shape: [2, 2] }, { data: [0, 255, 0, 0], shape: [2, 2] }),
    ).toThrow(/gt: boundary label 255 at \[b=0, y=0, x=1\] must be 0 or 1 with gtPreparation 'as-is'/);
    // @ts-expect-error: not a preparation
    expect(() => new BoundaryEvaluator({ dataset: 'nyud', gtPreparation: 'thin' })).toThrow(
      /gtPreparation must be 'seism' or 'as-is'; got thin/,
    );
    expect(() =>
      ev.updateSync({ data: [0, Number.NaN, 0, 0], shape: [2, 2] }, { data: [0, 1, 0, 0], shape: [2, 2] }),
    ).toThrow(/pred: non-finite prediction NaN at \[b=0, y=0, x=1\]/);
    expect(() =>
      ev.updateSync({ data: [0, 0, 0], shape: [1, 3] }, { data: [0, 1, 0, 0], shape: [2, 2] }),
    ).toThrow(/pred and gt differ in size/);
    const skip = new BoundaryEvaluator({
      dataset: 'nyud',
      thresholds: 3,
      nonFinite: 'skip',
      nms: false,
      gtPreparation: 'as-is',
    });
    skip.updateSync({ data: [0, Number.NaN, 0, 0.9], shape: [2, 2] }, { data: [0, 0, 0, 1], shape: [2, 2] });
    expect(skip.result().skippedNonFinite).toBe(1);
    expect(skip.result().odsF).toBe(1);
  });
});

describe("SEISM's ground-truth preparation, bwmorph(seg2bmap(G), 'thin', Inf)", () => {
  const rows = (text: string) => Array.from(text.replace(/\s+/g, ''), Number);
  /** Labels 2 below the diagonal (y > x), 1 elsewhere. */
  const diagonalLabels = (n: number) =>
    Array.from({ length: n * n }, (_, i) => (((i / n) | 0) > i % n ? 2 : 1));

  it('equals seg2bmap then thinning as computed by test/fixtures/seism_gt.py (scikit-image)', () => {
    // seg2bmap marks both sides of a diagonal border (2 px thick, 14 px); thinning keeps one side.
    expect(Array.from(boundariesFromLabels(diagonalLabels(8), 8, 8))).toEqual(
      rows('10000000 11000000 01100000 00110000 00011000 00001100 00000110 00000010'),
    );
    expect(Array.from(seismGroundTruth(diagonalLabels(8), 8, 8))).toEqual(
      rows('10000000 10000000 01000000 00100000 00010000 00001000 00000100 00000010'),
    );
    // A binary boundary map (NYUD's Boundaries) is a two-label map to seg2bmap: both sides of the line are
    // marked, and the thinning returns one line, one pixel to the left.
    const line = new Uint8Array(7 * 9);
    for (let x = 1; x < 8; x++) line[3 * 9 + x] = 1;
    expect(Array.from(seismGroundTruth(line, 7, 9))).toEqual(
      rows('000000000 000000000 000000000 111111100 000000000 000000000 000000000'),
    );
  });

  it('a diagonal border: the default matches the thinned GT (F = 1); as-is GT halves the recall', () => {
    const n = 32;
    const labels = diagonalLabels(n);
    // The prediction: the main diagonal, certain (1 survives the 8-bit round trip, no NMS).
    const pred = new Float64Array(n * n);
    for (let k = 0; k < n; k++) pred[k * n + k] = 1;
    const options = { maxDist: 1.5 / Math.hypot(n, n), thresholds: [0.5], nms: false }; // r = 1.5 px
    // Default: the GT is (0,0) and (y, x) = (k, k−1), k = 1..n−1 (n pixels, the pattern printed by
    // seism_gt.py), each 1 px from a predicted (k, k): a perfect matching, P = R = 1.
    const seism = new BoundaryEvaluator(options);
    seism.updateSync({ data: pred, shape: [n, n] }, { data: labels, shape: [n, n] });
    const gt = seismGroundTruth(labels, n, n);
    expect(gt.reduce((a, b) => a + b, 0)).toBe(n);
    expect(seism.result().odsF).toBe(1);
    // As is, with seg2bmap's 2-px band as GT: 2(n−1) GT pixels, all n predictions matched (the last, (n−1,n−1),
    // to (n−1,n−2)): P = 1, R = n / (2(n−1)), F = 2PR/(P+R) = 2n / (3n − 2).
    const asIs = new BoundaryEvaluator({ ...options, gtPreparation: 'as-is' });
    asIs.updateSync(
      { data: pred, shape: [n, n] },
      { data: boundariesFromLabels(labels, n, n), shape: [n, n] },
    );
    const r = asIs.result();
    expect(r.odsP).toBe(1);
    expect(r.odsR).toBeCloseTo(n / (2 * (n - 1)), 12);
    expect(r.odsF).toBeCloseTo((2 * n) / (3 * n - 2), 12);
    // The as-is map given to the default is prepared again (seg2bmap of a boundary map, thinned), not
    // matched as given.
    const twice = new BoundaryEvaluator(options);
    twice.updateSync(
      { data: pred, shape: [n, n] },
      { data: boundariesFromLabels(labels, n, n), shape: [n, n] },
    );
    expect(twice.result().odsF).not.toBeCloseTo(r.odsF, 6);
  });
});
