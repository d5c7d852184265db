import { describe, expect, test } from 'vitest';
import {
  NYUD40_CLASSES,
  NYUD40_TO_PASCAL_CONTEXT,
  PASCAL_PART_CLASSES,
  SyntheticWorld,
  nyud40Id,
  nyuv2Intrinsics,
  semanticBoundaries,
} from '../src/index.js';
import type { MultiViewSample } from '../src/index.js';
import { openSource, renderSamples } from '../src/node.js';
import { maskedError, relativePose, warpNeighbour } from './reproject.js';
import { ROOM_MARGIN } from '../src/synthetic/world.js';

function sampleBytes(sample: MultiViewSample): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const v of sample.views) {
    for (const a of [v.rgb, v.intrinsics, v.cameraToWorld])
      out.push(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    if (v.labels)
      for (const a of Object.values(v.labels)) out.push(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  }
  return out;
}

function fingerprint(a: Float32Array): string {
  let h = 0;
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  for (let i = 0; i < bytes.length; i++) h = (Math.imul(h, 31) + bytes[i]) | 0;
  return `${a.length}:${h}`;
}

describe('synthetic world: determinism and splits', () => {
  test('the same seed gives identical bytes; different seeds differ', () => {
    const a = new SyntheticWorld({ seed: 11, views: 3, labelsForAllViews: true }).sample('train', 2);
    const b = new SyntheticWorld({ seed: 11, views: 3, labelsForAllViews: true }).sample('train', 2);
    const c = new SyntheticWorld({ seed: 12, views: 3, labelsForAllViews: true }).sample('train', 2);
    const ba = sampleBytes(a);
    const bb = sampleBytes(b);
    expect(ba.length).toBe(bb.length);
    ba.forEach((x, i) => {
      expect(Buffer.compare(Buffer.from(x), Buffer.from(bb[i]))).toBe(0);
    });
    expect(fingerprint(c.views[0].rgb)).not.toBe(fingerprint(a.views[0].rgb));
  });

  test('train and val never share a scene', () => {
    const world = new SyntheticWorld({
      seed: 5,
      trainScenes: 12,
      valScenes: 6,
      views: 1,
      height: 24,
      width: 32,
    });
    const train = world.ids('train');
    const val = world.ids('val');
    expect(new Set([...train, ...val]).size).toBe(18);
    const trainSeeds = new Set(train.map((_, i) => world.sceneSeed('train', i)));
    const valSeeds = val.map((_, i) => world.sceneSeed('val', i));
    expect(trainSeeds.size).toBe(12);
    expect(valSeeds.some((s) => trainSeeds.has(s))).toBe(false);
    const trainImages = new Set(train.map((_, i) => fingerprint(world.sample('train', i).views[0].rgb)));
    for (let i = 0; i < val.length; i++)
      expect(trainImages.has(fingerprint(world.sample('val', i).views[0].rgb))).toBe(false);
  });
});

describe('synthetic world: labels and cameras', () => {
  const world = new SyntheticWorld({ seed: 2, views: 4, labelsForAllViews: true });
  const samples = [0, 1, 2, 3, 4, 5].map((i) => world.sample('train', i));
  const H = 96;
  const W = 128;

  test('labels are in range, normals are unit and face the camera, depth is positive', () => {
    const classes = new Set<number>();
    let personPixels = 0;
    // Count violations per rule (one expect per rule: per-pixel expects would be slow).
    const bad = {
      semseg: 0,
      parts: 0,
      binary: 0,
      depth: 0,
      unit: 0,
      facing: 0,
      partsOffPerson: 0,
      personNotSalient: 0,
    };
    for (const s of samples) {
      for (const v of s.views) {
        const L = v.labels!;
        const K = v.intrinsics;
        for (let i = 0; i < H * W; i++) {
          const c = L.semseg![i];
          if (!(c >= 0 && c < 40)) bad.semseg++;
          classes.add(c);
          if (!(L.human_parts![i] >= 0 && L.human_parts![i] < PASCAL_PART_CLASSES.length)) bad.parts++;
          if (L.sal![i] > 1 || L.edge![i] > 1) bad.binary++;
          if (!(L.depth![i] > 0.01 && L.depth![i] < 12)) bad.depth++;
          const n0 = L.normals![3 * i];
          const n1 = L.normals![3 * i + 1];
          const n2 = L.normals![3 * i + 2];
          if (Math.abs(Math.hypot(n0, n1, n2) - 1) > 1e-5) bad.unit++;
          const x = i % W;
          const y = Math.floor(i / W);
          if (n0 * ((x - K[2]) / K[0]) + n1 * ((y - K[5]) / K[4]) + n2 >= 0) bad.facing++;
          // Parts exactly where the person is; the person is salient.
          const isPerson = c === nyud40Id('person');
          if (L.human_parts![i] > 0 !== isPerson) bad.partsOffPerson++;
          if (isPerson) {
            if (L.sal![i] !== 1) bad.personNotSalient++;
            personPixels++;
          }
        }
      }
    }
    expect(bad).toEqual({
      semseg: 0,
      parts: 0,
      binary: 0,
      depth: 0,
      unit: 0,
      facing: 0,
      partsOffPerson: 0,
      personNotSalient: 0,
    });
    expect(classes.size).toBeGreaterThanOrEqual(10);
    expect(personPixels).toBeGreaterThan(0);
  });

  test('neighbours are handheld-video frames: baselines 2–35 cm, rotations under 10°', () => {
    for (const s of samples) {
      expect(s.views.length).toBe(4);
      for (let v = 1; v < 4; v++) {
        const T = relativePose(s.views[0].cameraToWorld, s.views[v].cameraToWorld);
        const baseline = Math.hypot(T[3], T[7], T[11]);
        const angle = Math.acos(Math.min(1, (T[0] + T[5] + T[10] - 1) / 2));
        expect(baseline).toBeGreaterThan(0.02);
        expect(baseline).toBeLessThan(0.35);
        expect(angle).toBeLessThan((10 * Math.PI) / 180);
      }
    }
  });

  test('multi-view consistency: a neighbour warped with the reference depth and pose reproduces the reference', () => {
    // Mean abs RGB error (RGB in [0,1]) over non-occluded pixels must stay below 0.025 on average and
    // 0.06 per pair (measured: 0.006-0.041, mean ~0.017: bilinear sampling of sharp texture edges); the same warp with a wrong pose (the neighbour placed at the reference pose) is far worse.
    const errors: number[] = [];
    const wrong: number[] = [];
    for (const s of samples) {
      const ref = s.views[0];
      for (let v = 1; v < s.views.length; v++) {
        const nbr = s.views[v];
        const warp = warpNeighbour(ref, nbr, ref.labels!.depth!, nbr.labels!.depth!, H, W);
        const { mae, coverage } = maskedError(warp.rgb, ref.rgb, warp.valid);
        expect(coverage).toBeGreaterThan(0.3);
        expect(mae).toBeLessThan(0.06);
        errors.push(mae);
        const bad = warpNeighbour(
          ref,
          { ...nbr, cameraToWorld: ref.cameraToWorld },
          ref.labels!.depth!,
          ref.labels!.depth!,
          H,
          W,
        );
        wrong.push(maskedError(bad.rgb, ref.rgb, bad.valid).mae);
      }
    }
    const mean = errors.reduce((a, b) => a + b) / errors.length;
    const meanWrong = wrong.reduce((a, b) => a + b) / wrong.length;
    expect(mean).toBeLessThan(0.025);
    expect(meanWrong).toBeGreaterThan(4 * mean);
  });

  test('normals agree with normals derived from depth on planar surfaces', () => {
    let checked = 0;
    let maxAngle = 0;
    for (const s of samples) {
      const v = s.views[0];
      const { depth, normals, semseg } = v.labels as Required<NonNullable<typeof v.labels>>;
      const K = v.intrinsics;
      const point = (x: number, y: number) => {
        const d = depth[y * W + x];
        return [((x - K[2]) / K[0]) * d, ((y - K[5]) / K[4]) * d, d];
      };
      for (let y = 1; y < H - 1; y++) {
        for (let x = 1; x < W - 1; x++) {
          const i = y * W + x;
          // Planar neighbourhood: one class, identical normals, and inverse depth affine in the pixel
          // coordinates (exactly true on a plane), which excludes parallel surfaces at a depth step.
          let planar = true;
          for (let dy = -1; dy <= 1 && planar; dy++)
            for (let dx = -1; dx <= 1; dx++) {
              const j = (y + dy) * W + x + dx;
              if (
                semseg[j] !== semseg[i] ||
                Math.abs(normals[3 * j] - normals[3 * i]) +
                  Math.abs(normals[3 * j + 1] - normals[3 * i + 1]) +
                  Math.abs(normals[3 * j + 2] - normals[3 * i + 2]) >
                  1e-6
              )
                planar = false;
            }
          const inv = (xx: number, yy: number) => 1 / depth[yy * W + xx];
          const tol = 1e-4 * inv(x, y);
          if (
            Math.abs(inv(x + 1, y) + inv(x - 1, y) - 2 * inv(x, y)) > tol ||
            Math.abs(inv(x, y + 1) + inv(x, y - 1) - 2 * inv(x, y)) > tol
          )
            planar = false;
          if (!planar) continue;
          const a = point(x + 1, y);
          const b = point(x - 1, y);
          const c = point(x, y + 1);
          const d = point(x, y - 1);
          const du = [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
          const dv = [c[0] - d[0], c[1] - d[1], c[2] - d[2]];
          // Image x right, y down: du × dv points away from the camera, so negate to face it.
          const n = [
            -(du[1] * dv[2] - du[2] * dv[1]),
            -(du[2] * dv[0] - du[0] * dv[2]),
            -(du[0] * dv[1] - du[1] * dv[0]),
          ];
          const len = Math.hypot(n[0], n[1], n[2]);
          const cos = (n[0] * normals[3 * i] + n[1] * normals[3 * i + 1] + n[2] * normals[3 * i + 2]) / len;
          maxAngle = Math.max(maxAngle, Math.acos(Math.min(1, cos)));
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(0.5 * samples.length * H * W);
    // float32 depth only: well under a degree.
    expect((maxAngle * 180) / Math.PI).toBeLessThan(0.5);
  });

  test('workers return the same bytes as the main thread', async () => {
    const options = { seed: 4, views: 2, height: 48, width: 64 };
    const requests = [0, 1, 2].map((index) => ({ split: 'train' as const, index }));
    const inline = await renderSamples(options, requests, { workers: 0 });
    const threaded = await renderSamples(options, requests, { workers: 2 });
    threaded.forEach((s, k) => {
      expect(s.id).toBe(inline[k].id);
      const a = sampleBytes(s);
      const b = sampleBytes(inline[k]);
      a.forEach((x, i) => {
        expect(Buffer.compare(Buffer.from(x), Buffer.from(b[i]))).toBe(0);
      });
    });
  });
});

describe('synthetic world: sizes, intrinsics, classes, options', () => {
  test('NYUv2 intrinsics scaled to the resolution', () => {
    const full = nyuv2Intrinsics(480, 640);
    expect(full[0]).toBeCloseTo(518.8579, 10);
    expect(full[2]).toBeCloseTo(325.5824, 10);
    const small = nyuv2Intrinsics(96, 128);
    expect(small[0]).toBeCloseTo(518.8579 / 5, 10);
    expect(small[2]).toBeCloseTo((325.5824 + 0.5) / 5 - 0.5, 10);
    expect(small[5]).toBeCloseTo((253.7362 + 0.5) / 5 - 0.5, 10);
  });

  test('renders at the paper size 448×576', () => {
    const s = new SyntheticWorld({ height: 448, width: 576, views: 1 }).sample('val', 0);
    expect(s.views[0].rgb.length).toBe(448 * 576 * 3);
    expect(s.views[0].labels!.depth!.every((d) => d > 0)).toBe(true);
  });

  test('class lists and the NYUD-40 → PASCAL-Context map', () => {
    expect(NYUD40_CLASSES.length).toBe(40);
    expect(nyud40Id('wall')).toBe(0);
    expect(nyud40Id('otherprop')).toBe(39);
    expect(NYUD40_TO_PASCAL_CONTEXT[nyud40Id('person')]).toBe(15);
    expect(NYUD40_TO_PASCAL_CONTEXT[nyud40Id('television')]).toBe(20);
    expect(NYUD40_TO_PASCAL_CONTEXT[nyud40Id('wall')]).toBe(0);
  });

  test('semantic boundaries: a band of 2·radius pixels along a label change', () => {
    const labels = Int32Array.from({ length: 4 * 6 }, (_, i) => (i % 6 < 3 ? 1 : 2));
    expect(Array.from(semanticBoundaries(labels, 4, 6, 1).slice(0, 6))).toEqual([0, 0, 1, 1, 0, 0]);
    expect(Array.from(semanticBoundaries(labels, 4, 6, 2).slice(0, 6))).toEqual([0, 1, 1, 1, 1, 0]);
    labels[0] = 255;
    expect(semanticBoundaries(labels, 4, 6, 1)[0]).toBe(255);
    expect(() => semanticBoundaries(labels, 4, 6, 0)).toThrow(/radius/);
  });

  test('bad options and indices give errors naming them', () => {
    expect(() => new SyntheticWorld({ views: 8 })).toThrow(/views/);
    expect(() => new SyntheticWorld({ height: 0 })).toThrow(/height/);
    expect(() => new SyntheticWorld({ seed: -1 })).toThrow(/seed/);
    expect(() => new SyntheticWorld({ antialias: 1.5 })).toThrow(/antialias/);
    expect(() => new SyntheticWorld({ personProbability: 2 })).toThrow(/personProbability/);
    const world = new SyntheticWorld({ trainScenes: 3 });
    expect(() => world.sample('train', 3)).toThrow(/index/);
    expect(() => world.sample('test' as 'train', 0)).toThrow(/split/);
  });

  test('without a person, human parts are ignored (255)', () => {
    const s = new SyntheticWorld({ personProbability: 0, views: 1, height: 24, width: 32 }).sample(
      'train',
      0,
    );
    expect(s.views[0].labels!.human_parts!.every((v) => v === 255)).toBe(true);
    expect(s.views[0].labels!.semseg!.includes(nyud40Id('person'))).toBe(false);
  });
});

describe('SyntheticWorld baselineScale', () => {
  test("moves the neighbours' centres along their baselines, keeps orientations and the reference view", () => {
    const world = new SyntheticWorld({
      seed: 2,
      height: 24,
      width: 32,
      views: 3,
      trainScenes: 2,
      valScenes: 1,
    });
    const base = world.sample('train', 1);
    const centre = (m: Float64Array) => [m[3], m[7], m[11]];
    for (const s of [0, 2]) {
      const moved = world.sample('train', 1, { baselineScale: s });
      expect(Array.from(moved.views[0].rgb)).toEqual(Array.from(base.views[0].rgb));
      const c0 = centre(base.views[0].cameraToWorld);
      for (const v of [1, 2]) {
        const want = centre(base.views[v].cameraToWorld).map((x, k) => c0[k] + s * (x - c0[k]));
        for (const [k, x] of centre(moved.views[v].cameraToWorld).entries())
          expect(x).toBeCloseTo(want[k], 12);
        for (const k of [0, 1, 2, 4, 5, 6, 8, 9, 10])
          expect(moved.views[v].cameraToWorld[k]).toBe(base.views[v].cameraToWorld[k]);
      }
    }
    expect(Array.from(world.sample('train', 1, { baselineScale: 1 }).views[1].rgb)).toEqual(
      Array.from(base.views[1].rgb),
    );
    expect(() => world.sample('train', 1, { baselineScale: -1 })).toThrow(
      /baselineScale must be a finite number >= 0/,
    );
  });

  test('a centre that would leave the room stops ROOM_MARGIN inside it, on the same line', () => {
    const world = new SyntheticWorld({ seed: 0, height: 16, width: 24, views: 2, trainScenes: 16 });
    const s = 40;
    let stopped = 0;
    for (let i = 0; i < 16; i++) {
      const room = world.scene('train', i).room.size;
      const base = world.sample('train', i);
      const moved = world.sample('train', i, { baselineScale: s });
      const c0 = [3, 7, 11].map((k) => base.views[0].cameraToWorld[k]);
      const d = [3, 7, 11].map((k, j) => base.views[1].cameraToWorld[k] - c0[j]);
      const c = [3, 7, 11].map((k) => moved.views[1].cameraToWorld[k]);
      for (let k = 0; k < 3; k++) {
        expect(c[k]).toBeGreaterThanOrEqual(ROOM_MARGIN - 1e-9);
        expect(c[k]).toBeLessThanOrEqual(room[k] - ROOM_MARGIN + 1e-9);
      }
      // Still c0 + t·d for one t in [1, s]: the same direction, at least the clip's own baseline.
      const k = d.map(Math.abs).indexOf(Math.max(...d.map(Math.abs)));
      const t = (c[k] - c0[k]) / d[k];
      expect(t).toBeGreaterThanOrEqual(1);
      expect(t).toBeLessThanOrEqual(s);
      for (let j = 0; j < 3; j++) expect(c[j]).toBeCloseTo(c0[j] + t * d[j], 9);
      if (t < s) {
        stopped++;
        // Stopped at a wall: one coordinate is ROOM_MARGIN from it.
        expect(
          c.some((x, j) => Math.abs(x - ROOM_MARGIN) < 1e-9 || Math.abs(x - (room[j] - ROOM_MARGIN)) < 1e-9),
        ).toBe(true);
      }
    }
    expect(stopped).toBeGreaterThan(0);
  });
});

describe('synthetic world: frames as samples (multi-view data for a single-view model)', () => {
  test('frameSample(view k) is view k of the clip alone, with its labels, rendered identically', () => {
    const world = new SyntheticWorld({ seed: 3, views: 3, height: 24, width: 32, labelsForAllViews: true });
    const clip = world.sample('train', 1);
    for (let k = 0; k < 3; k++) {
      const frame = world.frameSample('train', 1, k);
      expect(frame.id).toBe(`${clip.id}_v${k}`);
      expect(frame.views).toHaveLength(1);
      const [a, b] = [sampleBytes({ ...clip, views: [clip.views[k]] }), sampleBytes(frame)];
      expect(b.length).toBe(a.length);
      a.forEach((x, i) => {
        expect(Buffer.compare(Buffer.from(x), Buffer.from(b[i]))).toBe(0);
      });
    }
    expect(() => world.frameSample('train', 1, 3)).toThrow(/view must be an integer in \[0, 2\]/);
  });

  test("openSource's framesAsSamples: scenes × views single-view samples, scene-major", () => {
    const world = { seed: 3, views: 2, height: 24, width: 32, trainScenes: 3, valScenes: 1 };
    const src = openSource({ kind: 'synthetic', world, split: 'train', framesAsSamples: true });
    expect(src.length).toBe(6);
    const s = src.sample(3);
    expect(s.id).toBe('syn-train-000001_v1');
    expect(s.views[0].labels?.depth).toBeInstanceOf(Float32Array);
    const clip = new SyntheticWorld(world).sample('train', 1);
    expect(s.views[0].cameraToWorld).toEqual(clip.views[1].cameraToWorld);
  });

  test('a baselineScale reaches the samples and frames of openSource (frames from their moved cameras)', () => {
    const world = { seed: 3, views: 2, height: 24, width: 32, trainScenes: 2, valScenes: 1 };
    const wide = new SyntheticWorld({ ...world, labelsForAllViews: true }).sample('train', 1, {
      baselineScale: 3,
    });
    const clips = openSource({ kind: 'synthetic', world, split: 'train', baselineScale: 3 });
    expect(clips.sample(1).views[1].cameraToWorld).toEqual(wide.views[1].cameraToWorld);
    const frames = openSource({
      kind: 'synthetic',
      world,
      split: 'train',
      framesAsSamples: true,
      baselineScale: 3,
    });
    const frame = frames.sample(3).views[0];
    expect(frame.cameraToWorld).toEqual(wide.views[1].cameraToWorld);
    expect(Array.from(frame.rgb)).toEqual(Array.from(wide.views[1].rgb));
    expect(Array.from(frame.labels!.depth!)).toEqual(Array.from(wide.views[1].labels!.depth!));
    expect(frame.cameraToWorld).not.toEqual(
      openSource({ kind: 'synthetic', world, split: 'train' }).sample(1).views[1].cameraToWorld,
    );
    expect(() => new SyntheticWorld(world).frameSample('train', 1, 1, { baselineScale: Number.NaN })).toThrow(
      /baselineScale must be a finite number >= 0/,
    );
  });
});
