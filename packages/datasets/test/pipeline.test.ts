import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, describe, expect, test } from 'vitest';
import {
  DataLoader,
  Rng,
  SyntheticWorld,
  collate,
  cropSample,
  flipSample,
  hashSeeds,
  padSample,
  randomCropLocation,
  resizeSample,
  transformSample,
} from '../src/node.js';
import type { Batch, MultiViewSample, PipelineOptions, SampleView } from '../src/node.js';
import { batchToTensors, disposeBatchTensors } from '../src/tfjs.js';
import { maskedError, warpNeighbour } from './reproject.js';

const H = 96;
const W = 128;
const world = new SyntheticWorld({
  seed: 21,
  height: H,
  width: W,
  views: 3,
  labelsForAllViews: true,
  trainScenes: 8,
});
const samples = [0, 1, 2].map((i) => world.sample('train', i));

/** Mean reprojection error of every neighbour into the reference (and the covered fraction). */
function reprojection(s: MultiViewSample): { mae: number; coverage: number } {
  const ref = s.views[0];
  let mae = 0;
  let coverage = 0;
  for (const nbr of s.views.slice(1)) {
    const warped = warpNeighbour(ref, nbr, ref.labels!.depth!, nbr.labels!.depth!, s.height, s.width);
    const e = maskedError(warped.rgb, ref.rgb, warped.valid);
    mae += e.mae / (s.views.length - 1);
    coverage += e.coverage / (s.views.length - 1);
  }
  return { mae, coverage };
}

/** Pixel of world point X in a view. */
function project(view: SampleView, X: number[]): [number, number] {
  const P = view.cameraToWorld;
  const d = [X[0] - P[3], X[1] - P[7], X[2] - P[11]];
  // camera = Rᵀ(X − c)
  const c = [0, 1, 2].map((j) => P[j] * d[0] + P[4 + j] * d[1] + P[8 + j] * d[2]);
  const K = view.intrinsics;
  return [(K[0] * c[0] + K[1] * c[1]) / c[2] + K[2], (K[4] * c[1]) / c[2] + K[5]];
}

/** World point seen at pixel (x, y) of the reference with its depth. */
function unproject(s: MultiViewSample, x: number, y: number): number[] {
  const v = s.views[0];
  const K = v.intrinsics;
  const z = v.labels!.depth![y * s.width + x];
  const c = [((x - K[2]) / K[0]) * z, ((y - K[5]) / K[4]) * z, z];
  const P = v.cameraToWorld;
  return [0, 1, 2].map((i) => P[i * 4] * c[0] + P[i * 4 + 1] * c[1] + P[i * 4 + 2] * c[2] + P[i * 4 + 3]);
}

const geometryOnly: Omit<PipelineOptions, 'train'> = {
  flip: false,
  photometric: false,
  ignoreRegions: false,
};

describe('camera bookkeeping', () => {
  test('projections move exactly with flip, resize, crop and pad', () => {
    const s = samples[0];
    const points = [
      [10, 20],
      [64, 48],
      [120, 90],
    ].map(([x, y]) => unproject(s, x, y));
    for (const X of points) {
      const Xm = [-X[0], X[1], X[2]]; // the mirrored world
      s.views.forEach((v, k) => {
        const [x, y] = project(v, X);
        const [fx, fy] = project(flipSample(s).views[k], Xm);
        expect(fx).toBeCloseTo(W - 1 - x, 9);
        expect(fy).toBeCloseTo(y, 9);
        const r = resizeSample(s, 60, 100).views[k];
        const [rx, ry] = project(r, X);
        expect(rx).toBeCloseTo((x + 0.5) * (100 / W) - 0.5, 9);
        expect(ry).toBeCloseTo((y + 0.5) * (60 / H) - 0.5, 9);
        const [cx, cy] = project(cropSample(s, 7, 11, 50, 60).views[k], X);
        expect([cx, cy].map((t) => Number(t.toFixed(9)))).toEqual(
          [x - 11, y - 7].map((t) => Number(t.toFixed(9))),
        );
        const [px, py] = project(padSample(s, H + 9, W + 4).views[k], X);
        expect(px).toBeCloseTo(x + 2, 9);
        expect(py).toBeCloseTo(y + 4, 9);
      });
    }
  });

  test('flip keeps multi-view consistency: the same reprojection error before and after', () => {
    for (const s of samples) {
      const before = reprojection(s);
      const after = reprojection(flipSample(s));
      expect(before.mae).toBeLessThan(0.025);
      expect(after.mae).toBeLessThan(0.025);
      expect(Math.abs(after.mae - before.mae)).toBeLessThan(0.002);
      expect(Math.abs(after.coverage - before.coverage)).toBeLessThan(0.01);
      // Control: flipping images without mirroring the poses breaks consistency (the test can fail).
      const f = flipSample(s);
      const broken = {
        ...f,
        views: f.views.map((v, k) => ({ ...v, cameraToWorld: s.views[k].cameraToWorld })),
      };
      expect(reprojection(broken).mae).toBeGreaterThan(2 * before.mae + 0.02);
    }
  });

  test('scale and crop keep the intrinsics consistent with the images (reprojection)', () => {
    for (let i = 0; i < samples.length; i++) {
      const s = samples[i];
      const before = reprojection(s);
      for (const seed of [1, 2]) {
        const t = transformSample(
          s,
          { train: true, size: [64, 96], scale: [0.8, 1.4], ...geometryOnly },
          new Rng(seed),
        );
        expect([t.height, t.width]).toEqual([64, 96]);
        const after = reprojection(t);
        // Resampling blurs a little: the error stays within 30% (+0.003) of the untransformed one.
        expect(after.mae).toBeLessThan(1.3 * before.mae + 0.003);
        expect(after.coverage).toBeGreaterThan(0.4);
        // Control: the unscaled intrinsics do not fit the scaled images.
        const stale = { ...t, views: t.views.map((v, k) => ({ ...v, intrinsics: s.views[k].intrinsics })) };
        expect(reprojection(stale).mae).toBeGreaterThan(1.5 * after.mae);
      }
    }
  });

  test('normals: x mirrored at the mirrored pixel; flipping twice is the identity', () => {
    const s = samples[1];
    const f = flipSample(s);
    const n = s.views[0].labels!.normals!;
    const m = f.views[0].labels!.normals!;
    for (const [x, y] of [
      [3, 5],
      [70, 40],
    ]) {
      const a = 3 * (y * W + x);
      const b = 3 * (y * W + (W - 1 - x));
      expect([m[b], m[b + 1], m[b + 2]]).toEqual([n[a] === 0 ? 0 : -n[a], n[a + 1], n[a + 2]]);
    }
    const ff = flipSample(f);
    ff.views.forEach((v, k) => {
      expect(Array.from(v.rgb)).toEqual(Array.from(s.views[k].rgb));
      v.intrinsics.forEach((x, i) => {
        expect(x).toBeCloseTo(s.views[k].intrinsics[i], 12);
      });
      expect(Array.from(v.cameraToWorld)).toEqual(Array.from(s.views[k].cameraToWorld));
      expect(Array.from(v.labels!.semseg!)).toEqual(Array.from(s.views[k].labels!.semseg!));
    });
  });
});

describe('protocol transforms', () => {
  test('resize: bilinear image (OpenCV INTER_LINEAR sampling), nearest labels', () => {
    const s: MultiViewSample = {
      id: 'x',
      height: 2,
      width: 2,
      views: [
        {
          rgb: Float32Array.from([0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1]),
          intrinsics: Float64Array.from([1, 0, 0.5, 0, 1, 0.5, 0, 0, 1]),
          cameraToWorld: Float64Array.from([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]),
          labels: { semseg: Int32Array.from([3, 4, 5, 6]) },
        },
      ],
    };
    const r = resizeSample(s, 4, 4);
    // Row 0 columns: source x = (x + 0.5)/2 − 0.5 → −0.25 (clamped 0), 0.25, 0.75, 1.25 (clamped 1).
    expect(Array.from({ length: 4 }, (_, x) => r.views[0].rgb[3 * x])).toEqual([0, 0.25, 0.75, 1]);
    expect(Array.from(r.views[0].labels!.semseg!)).toEqual([3, 3, 4, 4, 3, 3, 4, 4, 5, 5, 6, 6, 5, 5, 6, 6]);
  });

  test('crop with cat_max_ratio avoids single-class windows; pad marks ignore and shifts K', () => {
    const h = 20;
    const w = 40;
    const semseg = new Int32Array(h * w); // class 0 except the 8 rightmost columns (class 1)
    for (let y = 0; y < h; y++) for (let x = 32; x < 40; x++) semseg[y * w + x] = 1;
    // A 10×10 window at `left` has 10·max(0, left − 22) class-1 pixels: ratio < 0.75 needs left in 25..29.
    const balanced = (left: number) => left >= 25 && left <= 29;
    const s: MultiViewSample = {
      id: 'c',
      height: h,
      width: w,
      views: [
        {
          rgb: new Float32Array(h * w * 3),
          intrinsics: Float64Array.from([10, 0, 20, 0, 10, 10, 0, 0, 1]),
          cameraToWorld: Float64Array.from([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]),
          labels: { semseg, depth: new Float32Array(h * w).fill(2), human_parts: new Int32Array(h * w) },
        },
      ],
    };
    let mixedWith = 0;
    let mixedWithout = 0;
    for (let seed = 0; seed < 30; seed++) {
      const a = randomCropLocation(s, 10, 10, new Rng(seed), 0.75);
      const b = randomCropLocation(s, 10, 10, new Rng(seed), 1);
      if (balanced(a.left)) mixedWith++;
      if (balanced(b.left)) mixedWithout++;
    }
    // ≈ 1 − (26/31)¹⁰ ≈ 83% with the redraws, ≈ 16% without.
    expect(mixedWith).toBeGreaterThanOrEqual(20);
    expect(mixedWithout).toBeLessThan(12);
    const v = transformSample(s, { train: false, size: [24, 44] }, new Rng(0));
    expect([v.height, v.width]).toEqual([24, 44]);
    expect(Array.from(v.views[0].intrinsics)).toEqual([10, 0, 22, 0, 10, 12, 0, 0, 1]);
    const L = v.views[0].labels!;
    expect(L.semseg![0]).toBe(255);
    expect(L.semseg![2 * 44 + 2]).toBe(0);
    expect(L.depth![0]).toBe(255); // padding depth 0 → 255 (AddIgnoreRegions)
    expect(L.depth![2 * 44 + 2]).toBe(2);
    expect(L.human_parts!.every((p) => p === 255)).toBe(true); // no person part → ignored
    expect(Array.from(v.views[0].rgb.subarray(0, 3))).toEqual([0, 0, 0]); // black padding by default
    const mean = [0.485, 0.456, 0.406] as const; // the reference pads after normalising: the mean colour
    const grey = transformSample(s, { train: false, size: [24, 44], padColor: mean }, new Rng(0));
    expect(Array.from(grey.views[0].rgb.subarray(0, 3))).toEqual(Array.from(Float32Array.from(mean)));
    expect(Array.from(grey.views[0].rgb.subarray(3 * (2 * 44 + 2), 3 * (2 * 44 + 3)))).toEqual([0, 0, 0]);
    expect(() =>
      transformSample(s, { train: false, size: [24, 44], padColor: [0, 0, 255] }, new Rng(0)),
    ).toThrow(/pipeline.padColor: expected 3 values in \[0,1\] \(RGB\), got \[0,0,255\]/);
    expect(s.views[0].labels!.depth![0]).toBe(2); // the input is untouched
  });

  test('photometric distortion changes colours identically in every view; geometry untouched', () => {
    const s = samples[0];
    const t = transformSample(s, { train: true, size: [H, W], scale: null, flip: false }, new Rng(5));
    let changed = 0;
    t.views.forEach((v, k) => {
      expect(Array.from(v.intrinsics)).toEqual(Array.from(s.views[k].intrinsics));
      for (let i = 0; i < v.rgb.length; i++) if (Math.abs(v.rgb[i] - s.views[k].rgb[i]) > 1e-6) changed++;
    });
    expect(changed).toBeGreaterThan(0);
  });
});

describe('batching and the DataLoader', () => {
  const source = {
    kind: 'synthetic' as const,
    world: { seed: 3, height: 48, width: 64, views: 2, trainScenes: 6 },
    split: 'train' as const,
  };
  const pipeline: PipelineOptions = { train: true, size: [40, 56] };
  const loaders: DataLoader[] = [];
  afterAll(async () => {
    await Promise.all(loaders.map((l) => l.close()));
  });
  const epochBatches = async (loader: DataLoader, epoch: number) => {
    const out: Batch[] = [];
    for await (const b of loader.epoch(epoch)) out.push(b);
    return out;
  };
  const bytes = (batches: Batch[]) =>
    batches.map((b) =>
      [
        b.ids.join(),
        Buffer.from(b.images.buffer).toString('base64'),
        Buffer.from(b.labels.semseg!.buffer).toString('base64'),
        Array.from(b.intrinsics).join(),
      ].join('|'),
    );

  test('shapes, seeded determinism, and identical batches with worker threads', async () => {
    const inline = new DataLoader({ source, pipeline, batchSize: 2, seed: 9 });
    const threaded = new DataLoader({ source, pipeline, batchSize: 2, seed: 9, workers: 2, prefetch: 2 });
    const other = new DataLoader({ source, pipeline, batchSize: 2, seed: 10 });
    loaders.push(inline, threaded, other);
    expect(inline.length).toBe(3);
    const a = await epochBatches(inline, 0);
    const b = await epochBatches(threaded, 0);
    const c = await epochBatches(other, 0);
    const a1 = await epochBatches(inline, 1);
    expect(a.length).toBe(3);
    const first = a[0];
    expect([first.size, first.views, first.height, first.width]).toEqual([2, 2, 40, 56]);
    expect(first.images.length).toBe(2 * 2 * 40 * 56 * 3);
    expect(first.intrinsics.length).toBe(2 * 2 * 9);
    expect(first.cameraToWorld.length).toBe(2 * 2 * 16);
    expect(first.labels.normals!.length).toBe(2 * 40 * 56 * 3);
    expect(first.labels.semseg).toBeInstanceOf(Int32Array);
    // The image contract: RGB in [0,1], not normalised (photometric jitter clamps, padding is black).
    const lo = Math.min(...a.map((x) => x.images.reduce((m, p) => Math.min(m, p), 1)));
    const hi = Math.max(...a.map((x) => x.images.reduce((m, p) => Math.max(m, p), 0)));
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThanOrEqual(1);
    expect(hi).toBeGreaterThan(0.5);
    expect(bytes(b)).toEqual(bytes(a));
    expect(bytes(await epochBatches(inline, 0))).toEqual(bytes(a));
    expect(bytes(c)).not.toEqual(bytes(a));
    expect(bytes(a1)).not.toEqual(bytes(a));
    expect(new Set(a.flatMap((x) => x.ids)).size).toBe(6);
    // Resuming mid-epoch yields the rest of the same epoch, with worker threads too.
    const rest: Batch[] = [];
    for await (const x of threaded.epoch(0, { fromBatch: 1 })) rest.push(x);
    expect(bytes(rest)).toEqual(bytes(a.slice(1)));
    await expect(inline.epoch(0, { fromBatch: 4 }).next()).rejects.toThrow(
      /fromBatch must be an integer in \[0, 3\]/,
    );
  });

  test('collate rejects mixed sizes; batchToTensors gives NHWC tensors without leaks', () => {
    const s = world.sample('train', 3);
    const small = resizeSample(s, 48, 64);
    expect(() => collate([s, small])).toThrow(/collate: sample syn-train-000003 is 3×48×64/);
    const batch = collate([s, s]);
    const before = tf.memory().numTensors;
    const t = batchToTensors(batch);
    expect(t.images.shape).toEqual([2, 3, H, W, 3]);
    expect(t.intrinsics.shape).toEqual([2, 3, 3, 3]);
    expect(t.cameraToWorld.shape).toEqual([2, 3, 4, 4]);
    expect(t.labels.semseg!.shape).toEqual([2, H, W]);
    expect(t.labels.semseg!.dtype).toBe('int32');
    expect(t.labels.normals!.shape).toEqual([2, H, W, 3]);
    expect(t.labels.depth!.dtype).toBe('float32');
    expect(Array.from(t.intrinsics.dataSync().slice(0, 9))).toEqual(
      Array.from(Float32Array.from(s.views[0].intrinsics)),
    );
    disposeBatchTensors(t);
    expect(tf.memory().numTensors).toBe(before);
  });

  test('bad options give clear errors', () => {
    expect(() => new DataLoader({ source, pipeline, batchSize: 0 })).toThrow(
      /batchSize must be a positive integer/,
    );
    expect(() => new DataLoader({ source, pipeline: { train: true }, batchSize: 1 })).toThrow(/need `size`/);
    expect(() =>
      transformSample(samples[0], { train: true, size: [8, 8], scale: [2, 1] }, new Rng(hashSeeds(1))),
    ).toThrow(/bad scale range/);
    const normalising = { ...pipeline, mean: [0.485, 0.456, 0.406] } as PipelineOptions;
    expect(() => new DataLoader({ source, pipeline: normalising, batchSize: 1 })).toThrow(
      /`mean` \/ `std` were removed: images stay float32 RGB in \[0,1\]/,
    );
  });
});
