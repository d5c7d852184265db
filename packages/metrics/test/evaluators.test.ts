import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it } from 'vitest';
import {
  angleDegrees,
  BoundaryEvaluator,
  CrossTaskConsistencyEvaluator,
  DepthEvaluator,
  MultiTaskEvaluator,
  NormalsEvaluator,
  PAPER_BASELINES,
  SaliencyEvaluator,
  SegmentationEvaluator,
  seismGroundTruth,
} from '../src/index.js';

describe('hand-computed cases', () => {
  it('semseg 2x2 with one ignored pixel', () => {
    // gt [0 1; 1 255], pred [0 0; 1 1] over 2 classes:
    // class 0: TP 1, FP 1, FN 0 -> 1/2; class 1: TP 1, FP 0, FN 1 -> 1/2 -> mIoU 50, accuracy 2/3
    const ev = new SegmentationEvaluator({ numClasses: 2 });
    ev.updateSync({ data: [0, 0, 1, 1], shape: [2, 2] }, { data: [0, 1, 1, 255], shape: [2, 2] });
    const r = ev.result();
    expect(r.perClassIoU).toEqual([50, 50]);
    expect(r.mIoU).toBe(50);
    expect(r.pixelAccuracy).toBeCloseTo(200 / 3, 12);
    // an absent class counts as IoU 0, as in the reference
    const ev3 = new SegmentationEvaluator({ numClasses: 3 });
    ev3.updateSync({ data: [0, 0, 1, 1], shape: [2, 2] }, { data: [0, 1, 1, 255], shape: [2, 2] });
    expect(ev3.result().mIoU).toBeCloseTo(100 / 3, 12);
  });

  it('semseg score maps use argmax (first maximum wins)', () => {
    const ev = new SegmentationEvaluator({ numClasses: 3 });
    // [1,1,2,3] scores: pixel 0 -> class 2, pixel 1 -> tie 0/1 -> 0
    ev.updateSync({ data: [0, 1, 5, 3, 3, 1], shape: [1, 1, 2, 3] }, { data: [2, 0], shape: [1, 1, 2] });
    expect(ev.result().pixelAccuracy).toBe(100);
  });

  it('depth: pooled over pixels, not images', () => {
    // image 1: one valid pixel, error 3; image 2: three valid pixels, error 1 each
    const ev = new DepthEvaluator();
    ev.updateSync({ data: [4, 9, 9, 9], shape: [1, 2, 2] }, { data: [1, 0, 0, 85], shape: [1, 2, 2] });
    ev.updateSync({ data: [2, 2, 2, 5], shape: [1, 2, 2] }, { data: [1, 1, 1, -1], shape: [1, 2, 2] });
    const r = ev.result();
    expect(r.pixels).toBe(4);
    expect(r.rmse).toBeCloseTo(Math.sqrt((9 + 3) / 4), 12);
    expect(r.rmsePerImage).toBeCloseTo((3 + 1) / 2, 12);
    expect(r.delta1).toBe(0);
  });

  it('normals: angles, ignore where any GT channel is 255, zero prediction = 90°', () => {
    expect(angleDegrees(1, 0, 0, 0, 1, 0)).toBeCloseTo(90, 12);
    expect(angleDegrees(1, 0, 0, -2, 0, 0)).toBeCloseTo(180, 12);
    expect(angleDegrees(1, 1, 0, 3, 0, 0)).toBeCloseTo(45, 12);
    const ev = new NormalsEvaluator();
    ev.updateSync(
      { data: [1, 1, 0, 0, 0, 0, 5, 5, 5], shape: [1, 1, 3, 3] },
      { data: [1, 0, 0, 0, 0, 1, 255, 0, 0], shape: [1, 1, 3, 3] },
    );
    const r = ev.result();
    expect(r.pixels).toBe(2);
    expect(r.mErr).toBeCloseTo((45 + 90) / 2, 12);
    expect(r.within30).toBe(0);
    // png decoding: 255·(n + 1)/2
    const png = new NormalsEvaluator({ predEncoding: 'png' });
    png.updateSync(
      { data: [127.5, 127.5, 255], shape: [1, 1, 1, 3] },
      { data: [0, 0, 1], shape: [1, 1, 1, 3] },
    );
    expect(png.result().mErr).toBeCloseTo(0, 6);
  });

  it('saliency: counts pooled per threshold, β² = 0.3', () => {
    // 4 pixels: gt [1,1,0,0], prob [0.9, 0.3, 0.6, 0.1]
    const ev = new SaliencyEvaluator();
    ev.updateSync({ data: [0.9, 0.3, 0.6, 0.1], shape: [2, 2] }, { data: [1, 1, 0, 0], shape: [2, 2] });
    const r = ev.result();
    // t = 0.7..0.9: TP 1, PP 1 -> P = 1, R = 0.5 -> F = 1.3·0.5/(0.3 + 0.5) = 0.8125
    // t = 0.35..0.6: TP 1, PP 2 -> F = .5; t = 0.15..0.3: P = 2/3, R = 1 -> F = 72.2
    expect(r.maxF).toBeCloseTo(81.25, 4);
    expect(r.fPerThreshold[0]).toBeCloseTo((100 * 1.3 * 0.5) / 1.15, 4); // t = 0.05: all 4 positive
    // IoU: best at t in (0.6, 0.9]: 1/2; at t ≤ 0.3: 2/3 -> mIoU = 66.67
    expect(r.mIoU).toBeCloseTo(200 / 3, 10);
  });
});

describe('tensors, streaming and errors', () => {
  it('accepts tfjs tensors on the cpu backend and matches typed arrays', async () => {
    await tf.setBackend('cpu');
    const pred = tf.tensor4d([0, 0, 1, 1], [1, 2, 2, 1], 'int32');
    const gt = tf.tensor3d([0, 1, 1, 255], [1, 2, 2], 'int32');
    const ev = new SegmentationEvaluator({ numClasses: 2 });
    await ev.update(pred, gt);
    expect(ev.result().mIoU).toBe(50);
    const d = new DepthEvaluator();
    await d.update(tf.tensor2d([2, 2], [1, 2]), { data: new Float32Array([1, 1]), shape: [1, 2] });
    expect(d.result().rmse).toBe(1);
    tf.dispose([pred, gt]);
  });

  it('rejects mismatched shapes, out-of-range labels and NaN predictions with clear errors', () => {
    const ev = new SegmentationEvaluator({ numClasses: 40 });
    expect(() => ev.updateSync({ data: [0, 0, 0], shape: [1, 3] }, { data: [0, 0], shape: [1, 2] })).toThrow(
      /pred and gt differ in size/,
    );
    expect(() => ev.updateSync({ data: [0, 0], shape: [1, 2] }, { data: [0, 40], shape: [1, 2] })).toThrow(
      /gt: label 40 at \[b=0, y=0, x=1\] is outside 0..39 and is not the ignore index 255/,
    );
    expect(() => ev.updateSync({ data: [0, -1], shape: [1, 2] }, { data: [0, 1], shape: [1, 2] })).toThrow(
      /pred: label -1 .* outside 0..39/,
    );
    expect(() =>
      ev.updateSync({ data: [0, Number.NaN], shape: [1, 2] }, { data: [0, 1], shape: [1, 2] }),
    ).toThrow(/pred: non-finite prediction NaN/);
    expect(() => ev.updateSync({ data: [0, 1, 2], shape: [1, 2] }, { data: [0, 1], shape: [1, 2] })).toThrow(
      /pred: data has 3 values but shape \[1,2\] needs 2/,
    );
    expect(() => new SegmentationEvaluator({ numClasses: 300 })).toThrow(/ignoreIndex 255 collides/);
    const d = new DepthEvaluator();
    expect(() => d.updateSync({ data: [Number.NaN], shape: [1, 1] }, { data: [1], shape: [1, 1] })).toThrow(
      /non-finite prediction NaN .*\{nonFinite: 'skip'\}/,
    );
    // NaN on an invalid GT pixel is never read; 'skip' leaves NaN pixels out and counts them
    d.updateSync({ data: [Number.NaN], shape: [1, 1] }, { data: [0], shape: [1, 1] });
    const ds = new DepthEvaluator({ nonFinite: 'skip' });
    ds.updateSync({ data: [Number.NaN, 2], shape: [1, 2] }, { data: [1, 1], shape: [1, 2] });
    expect(ds.result()).toMatchObject({ rmse: 1, pixels: 1, skippedNonFinite: 1 });
    const s = new SaliencyEvaluator();
    expect(() => s.updateSync({ data: [0.5], shape: [1, 1] }, { data: [2], shape: [1, 1] })).toThrow(
      /saliency label 2 .* must be 0, 1 or the ignore index 255/,
    );
    const n = new NormalsEvaluator();
    expect(() =>
      n.updateSync({ data: [1, 0], shape: [1, 1, 2] }, { data: [1, 0], shape: [1, 1, 2] }),
    ).toThrow(/expected 3 channel\(s\)/);
  });

  it('constructors without their required options name the missing option', () => {
    // @ts-expect-error: no options (a JavaScript caller)
    expect(() => new SegmentationEvaluator()).toThrow(
      /SegmentationEvaluator: options are required: pass \{numClasses\}/,
    );
    // @ts-expect-error: numClasses missing
    expect(() => new SegmentationEvaluator({ ignoreIndex: 255 })).toThrow(
      /SegmentationEvaluator: missing option numClasses/,
    );
    // @ts-expect-error: no options
    expect(() => new BoundaryEvaluator()).toThrow(/BoundaryEvaluator: options are required: pass \{dataset/);
    // @ts-expect-error: no options
    expect(() => new MultiTaskEvaluator()).toThrow(
      /MultiTaskEvaluator: options are required: pass \{dataset/,
    );
    // @ts-expect-error: dataset missing
    expect(() => new MultiTaskEvaluator({})).toThrow(/MultiTaskEvaluator: missing option dataset/);
    // The others have defaults for every option.
    expect(new DepthEvaluator().maxDepth).toBe(80);
    expect(new NormalsEvaluator().predEncoding).toBe('raw');
    expect(new SaliencyEvaluator().beta2).toBe(0.3);
    expect(new CrossTaskConsistencyEvaluator().axisSigns).toEqual([1, 1, 1]);
  });
});

describe('cross-task consistency', () => {
  const H = 24;
  const W = 32;
  const K = { fx: 30, fy: 28, cx: 15.5, cy: 11.5 };
  // plane n·X = c with n = (0.2, -0.3, -0.93) (facing the camera), c = -2: depth d = c / (n·ray)
  const n = [0.2, -0.3, -0.93];
  const len = Math.hypot(...n);
  const nu = n.map((v) => v / len);
  const depth = new Float64Array(H * W);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const ray = [(x - K.cx) / K.fx, (y - K.cy) / K.fy, 1];
      depth[y * W + x] = -2 / (nu[0] * ray[0] + nu[1] * ray[1] + nu[2] * ray[2]);
    }
  }

  it('skips pixels next to an invalid depth; axisSigns flip the derived normals; K as a matrix', async () => {
    const holed = Float64Array.from(depth);
    holed[5 * W + 7] = 0; // its 3x3 neighbourhood (9 pixels) has no normal
    const flipped = new Float64Array(H * W * 3);
    for (let i = 0; i < H * W; i++) flipped.set([nu[0], -nu[1], -nu[2]], 3 * i);
    const ev = new CrossTaskConsistencyEvaluator({ axisSigns: [1, -1, -1] });
    const before = tf.memory().numTensors;
    await ev.update({
      depth: { data: holed, shape: [1, H, W, 1] },
      normals: { data: flipped, shape: [1, H, W, 3] },
      intrinsics: [
        [K.fx, 0, K.cx],
        [0, K.fy, K.cy],
        [0, 0, 1],
      ],
    });
    expect(tf.memory().numTensors).toBe(before); // the depth and normal tensors are disposed
    const r = ev.result();
    expect(r.skipped).toBe(9);
    expect(r.pixels).toBe(H * W - 9);
    expect(r.mean).toBeLessThan(1e-3);
  });

  it('the evaluator gives 0° for consistent normals and the tilt for inconsistent ones', async () => {
    const normals = new Float64Array(H * W * 3);
    for (let i = 0; i < H * W; i++) normals.set(nu, 3 * i);
    const ev = new CrossTaskConsistencyEvaluator();
    await ev.update({
      depth: { data: depth, shape: [1, H, W] },
      normals: { data: normals, shape: [1, H, W, 3] },
      intrinsics: K,
    });
    const r = ev.result();
    // @cvm/geometry's depthToNormals (float32): one-sided differences on the border are exact for a plane too.
    expect(r.pixels).toBe(H * W);
    expect(r.mean).toBeLessThan(1e-3);
    const flat = new Float64Array(H * W * 3);
    for (let i = 0; i < H * W; i++) flat.set([0, 0, -1], 3 * i);
    const ev2 = new CrossTaskConsistencyEvaluator();
    await ev2.update({
      depth: { data: depth, shape: [H, W] },
      normals: { data: flat, shape: [H, W, 3] },
      intrinsics: K,
    });
    expect(ev2.result().mean).toBeCloseTo((Math.acos(-nu[2]) * 180) / Math.PI, 3);
    await expect(ev2.update({ normals: { data: flat, shape: [H, W, 3] } })).rejects.toThrow(
      /depth, intrinsics\} or \{depthNormals/,
    );
  });
});

describe('MultiTaskEvaluator', () => {
  it('runs every NYUD task and reports paper units and ΔMTL', async () => {
    const H = 16;
    const W = 20;
    const seg = Array.from({ length: H * W }, (_, i) => i % 40);
    const depth = Array.from({ length: H * W }, (_, i) => 1 + (i % 7));
    const normals = Array.from({ length: H * W * 3 }, (_, i) => (i % 3 === 2 ? 1 : 0));
    const edgeGt = Array.from({ length: H * W }, (_, i) => (Math.floor(i / W) === 8 ? 1 : 0));
    // A prediction on the GT as SEISM prepares it (the evaluator's default) scores odsF = 1.
    const edgeP = Array.from(seismGroundTruth(edgeGt, H, W), (v) => 0.9 * v);
    const ev = new MultiTaskEvaluator({
      dataset: 'nyud',
      baseline: PAPER_BASELINES.nyudVitBStl.scores,
      boundary: { thresholds: 5, nms: false },
    });
    const sh = (d: number[], c?: number) => ({ data: d, shape: c ? [1, H, W, c] : [1, H, W] });
    await ev.update(
      { semseg: sh(seg), depth: sh(depth.map((d) => d + 0.5)), normals: sh(normals, 3), edge: sh(edgeP) },
      { semseg: sh(seg), depth: sh(depth), normals: sh(normals, 3), edge: sh(edgeGt) },
    );
    const r = ev.result();
    expect(r.scores).toEqual({ semseg: 100, depth: 0.5, normals: 0, edge: 100 });
    expect(r.deltaMtl).toBeCloseTo(
      (100 / 4) *
        ((100 - 51.15) / 51.15 - (0.5 - 0.5792) / 0.5792 - (0 - 19.77) / 19.77 + (100 - 77.35) / 77.35),
      10,
    );
    await expect(ev.update({ semseg: sh(seg) }, { semseg: sh(seg) })).rejects.toThrow(
      /missing prediction for task 'depth'/,
    );
  });
});
