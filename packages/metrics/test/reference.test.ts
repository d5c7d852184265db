import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  BoundaryEvaluator,
  BoundaryMatcher,
  boundaryCountsForImage,
  DepthEvaluator,
  NormalsEvaluator,
  SALIENCY_THRESHOLDS,
  SaliencyEvaluator,
  SegmentationEvaluator,
  thin,
} from '../src/index.js';

// Values computed by test/fixtures/make_fixtures.py (numpy / torch formulas written independently).
const ref = JSON.parse(
  readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'reference.json'), 'utf8'),
);

describe('against the numpy/torch reference fixtures', () => {
  it('semseg: confusion-matrix mIoU, per-class IoU, pixel accuracy', () => {
    const r = ref.semseg;
    const ev = new SegmentationEvaluator({ numClasses: r.numClasses });
    ev.updateSync({ data: r.pred, shape: r.shape }, { data: r.gt, shape: r.shape });
    const res = ev.result();
    expect(res.mIoU).toBeCloseTo(r.mIoU, 10);
    res.perClassIoU.forEach((v, i) => {
      expect(v).toBeCloseTo(r.perClassIoU[i], 10);
    });
    expect(res.pixelAccuracy).toBeCloseTo(r.pixelAccuracy, 10);
  });

  it('semseg: streaming over two batches equals one batch', () => {
    const r = ref.semseg;
    const [B, H, W] = r.shape;
    const ev = new SegmentationEvaluator({ numClasses: r.numClasses });
    for (let b = 0; b < B; b++) {
      const sl = (a: number[]) => a.slice(b * H * W, (b + 1) * H * W);
      ev.updateSync({ data: sl(r.pred), shape: [1, H, W] }, { data: sl(r.gt), shape: [1, H, W] });
    }
    expect(ev.result().mIoU).toBeCloseTo(r.mIoU, 10);
  });

  it('depth: pooled RMSE and extras', () => {
    const r = ref.depth;
    const ev = new DepthEvaluator();
    ev.updateSync({ data: r.pred, shape: r.shape }, { data: r.gt, shape: r.shape });
    const res = ev.result();
    expect(res.pixels).toBe(r.pixels);
    expect(res.rmse).toBeCloseTo(r.rmse, 10);
    expect(res.rmsePerImage).toBeCloseTo(r.rmsePerImage, 10);
    expect(res.absRel).toBeCloseTo(r.absRel, 10);
    expect(res.log10).toBeCloseTo(r.log10, 10);
    expect(res.delta1).toBeCloseTo(r.delta1, 10);
  });

  it('normals: mErr (raw and png-encoded), median, % within', () => {
    const r = ref.normals;
    const ev = new NormalsEvaluator();
    ev.updateSync({ data: r.pred, shape: r.shape }, { data: r.gt, shape: r.shape });
    const res = ev.result();
    expect(res.pixels).toBe(r.pixels);
    expect(res.mErr).toBeCloseTo(r.mErr, 9);
    expect(Math.abs(res.median - r.median)).toBeLessThan(2e-3); // histogram median, 0.001° bins
    expect(res.within11_25).toBeCloseTo(r.within11_25, 10);
    expect(res.within22_5).toBeCloseTo(r.within22_5, 10);
    expect(res.within30).toBeCloseTo(r.within30, 10);
    const png = new NormalsEvaluator({ predEncoding: 'png' });
    png.updateSync({ data: r.predPng, shape: r.shape }, { data: r.gt, shape: r.shape });
    expect(png.result().mErr).toBeCloseTo(r.mErrPng, 9);
  });

  it('saliency: float32 thresholds, maxF (β² = 0.3) and mIoU as the torch meter', () => {
    const r = ref.saliency;
    expect(SALIENCY_THRESHOLDS).toEqual(r.thresholds);
    const ev = new SaliencyEvaluator({ predScale: 255 });
    ev.updateSync({ data: r.pred255, shape: r.shape }, { data: r.gt, shape: r.shape });
    const res = ev.result();
    // torch accumulates the counts in float32 and computes F in float32.
    expect(res.maxF).toBeCloseTo(r.maxF, 4);
    res.fPerThreshold.forEach((f, i) => {
      expect(f).toBeCloseTo(r.f[i], 4);
    });
    expect(res.mIoU).toBeCloseTo(r.mIoU, 10);
  });

  it('thin: equals a plain parallel sweep of the Lam–Lee–Suen conditions', () => {
    for (const c of ref.thin) {
      const got = thin(c.img, c.h, c.w);
      expect(Array.from(got)).toEqual(c.thinned);
      // thinning changes something in these blobby cases (the assertion can fail)
      expect(c.thinned).not.toEqual(c.img);
    }
  });

  it('matching: maximum cardinality equals a brute-force augmenting-path matching', () => {
    for (const c of ref.match) {
      const m = new BoundaryMatcher(c.gt, c.h, c.w, c.radius);
      const pred = c.pred.flatMap((v: number, i: number) => (v ? [i] : []));
      expect(m.match(pred)).toBe(c.matched);
      // warm start from itself and from an empty matching give the same size
      expect(m.match(pred)).toBe(c.matched);
      expect(m.match([])).toBe(0);
      expect(m.match(pred)).toBe(c.matched);
    }
  });

  it('boundary: counts per image and threshold, ODS / OIS / AP as SEISM (no NMS)', () => {
    const r = ref.boundary;
    // The reference matches against the GT maps as given.
    const ev = new BoundaryEvaluator({
      maxDist: r.maxDist,
      thresholds: r.thresholds,
      nms: false,
      gtPreparation: 'as-is',
    });
    for (const img of r.images) {
      const counts = boundaryCountsForImage(img.prob, img.gt, img.h, img.w, {
        maxDist: r.maxDist,
        thresholds: r.thresholds,
        nms: false,
      });
      expect(counts.map((c) => [c.cntR, c.sumR, c.cntP, c.sumP])).toEqual(img.counts);
      ev.updateSync({ data: img.prob, shape: [img.h, img.w] }, { data: img.gt, shape: [img.h, img.w] });
    }
    const res = ev.result();
    expect(res.odsF).toBeCloseTo(r.odsF, 12);
    expect(res.odsThreshold).toBe(r.odsThreshold);
    expect(res.oisF).toBeCloseTo(r.oisF, 12);
    expect(res.ap).toBeCloseTo(r.ap, 12);
  });
});
