import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { relativePose } from '@cvm/geometry';
import { expectClose, seededUniform } from '@cvm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { costVolume, costVolumeCpu } from '../src/index.js';
import { type Scenario, disposeOptions, poseMatrix, scenarioFeatures, scenarios } from './scenarios.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
  tf.env().set('IS_TEST', true);
});

const IMPLEMENTATIONS = ['fused', 'composite'] as const;

function inverse3(m: number[][]): number[][] {
  const [[a, b, c], [d, e, f], [g, h, i]] = m;
  const A = e * i - f * h;
  const B = f * g - d * i;
  const C = d * h - e * g;
  const det = a * A + b * B + c * C;
  return [
    [A / det, (c * h - b * i) / det, (b * f - c * e) / det],
    [B / det, (a * i - c * g) / det, (c * d - a * f) / det],
    [C / det, (b * g - a * h) / det, (a * e - b * d) / det],
  ];
}

const mv = (m: number[][], v: number[]) => m.map((row) => row[0] * v[0] + row[1] * v[1] + row[2] * v[2]);

/**
 * Independent plain-loop reference, straight from the references' formulation in float64: ray =
 * K_ref⁻¹·[x,y,1], P = d·R·ray + t, p = K_nbr·P, (u,v) = p_xy / max(p_z, 1e-3), bilinear sampling with
 * zero padding at integer pixel centres, Σ_c ref·sample / √C, mean over neighbours.
 */
function plainCostVolume(s: Scenario, ref: Float32Array, nbrs: Float32Array[]): Float64Array {
  const [B, H, W, C] = s.shape;
  const L = s.inverseDepths[0].length;
  const out = new Float64Array(B * H * W * L);
  const at = (f: Float32Array, b: number, y: number, x: number, c: number) =>
    x < 0 || x > W - 1 || y < 0 || y > H - 1 ? 0 : f[((b * H + y) * W + x) * C + c];
  for (let b = 0; b < B; b++) {
    const kInv = inverse3(s.kRef[b]);
    for (let i = 0; i < nbrs.length; i++) {
      const pose = s.poses[i][b];
      const R = pose.slice(0, 3).map((row) => row.slice(0, 3));
      const t = pose.slice(0, 3).map((row) => row[3]);
      const K = s.kNbr[i][b];
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++) {
          const ray = mv(R, mv(kInv, [x, y, 1]));
          for (let l = 0; l < L; l++) {
            const d = 1 / s.inverseDepths[b][l];
            const p = mv(K, [d * ray[0] + t[0], d * ray[1] + t[1], d * ray[2] + t[2]]);
            const z = Math.max(p[2], 1e-3);
            const u = p[0] / z;
            const v = p[1] / z;
            const x0 = Math.floor(u);
            const y0 = Math.floor(v);
            let sum = 0;
            for (let c = 0; c < C; c++) {
              let sample = 0;
              for (const [xi, yi] of [
                [x0, y0],
                [x0 + 1, y0],
                [x0, y0 + 1],
                [x0 + 1, y0 + 1],
              ]) {
                sample += (1 - Math.abs(u - xi)) * (1 - Math.abs(v - yi)) * at(nbrs[i], b, yi, xi, c);
              }
              sum += ref[((b * H + y) * W + x) * C + c] * sample;
            }
            out[((b * H + y) * W + x) * L + l] += sum / Math.sqrt(C) / nbrs.length;
          }
        }
    }
  }
  return out;
}

describe('costVolume: analytic cases', () => {
  const K = [
    [6, 0, 3.5],
    [0, 5.5, 2.5],
    [0, 0, 1],
  ];
  const inv = [0.1, 0.37, 0.8, 1.3, 2];

  for (const implementation of IMPLEMENTATIONS) {
    it(`${implementation}: identity pose → constant along depth, equal to ⟨ref, nbr⟩/√C`, async () => {
      const ref = seededUniform([2, 6, 8, 4], 1) as tf.Tensor4D;
      const nbr = seededUniform([2, 6, 8, 4], 2) as tf.Tensor4D;
      for (const intrinsics of [K, tf.util.flatten([[1, 0, 0], [0, 1, 0], [0, 0, 1]]) as number[]]) {
        const cv = costVolume(ref, [nbr], { intrinsics, poses: [tf.eye(4)], inverseDepths: inv, implementation });
        const expected = tf.tidy(() => tf.div(tf.sum(tf.mul(ref, nbr), -1, true), 2));
        const v = await cv.data();
        const e = await expected.data();
        expect(cv.shape).toEqual([2, 6, 8, 5]);
        expectClose(v, Array.from(v, (_, i) => e[Math.floor(i / 5)]), { atol: 2e-6 });
        tf.dispose([cv, expected]);
      }
      tf.dispose([ref, nbr]);
    });

    it(`${implementation}: pure x-translation → disparity shift x' = x − fx·tx·s`, async () => {
      const [H, W, C] = [5, 9, 3];
      const ref = seededUniform([1, H, W, C], 3) as tf.Tensor4D;
      const nbr = seededUniform([1, H, W, C], 4) as tf.Tensor4D;
      // The neighbour camera sits 0.4 to the right of the reference: T_nbr<-ref translates by −0.4 in x.
      const c2wNbr = poseMatrix([0, 0, 1], 0, [0.4, 0, 0]);
      const pose = relativePose(tf.util.flatten(poseMatrix([0, 0, 1], 0, [0, 0, 0])) as number[], tf.util.flatten(c2wNbr) as number[]);
      const cv = costVolume(ref, [nbr], { intrinsics: K, poses: [pose], inverseDepths: inv, implementation });
      const v = await cv.data();
      const r = await ref.data();
      const n = await nbr.data();
      // The neighbour map shifted along x by the disparity, sampled by 1-D linear interpolation.
      const shifted = (y: number, u: number, c: number) => {
        const x0 = Math.floor(u);
        const a = u - x0;
        const get = (x: number) => (x < 0 || x >= W ? 0 : n[(y * W + x) * C + c]);
        return (1 - a) * get(x0) + a * get(x0 + 1);
      };
      const expected = new Float64Array(v.length);
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++)
          inv.forEach((s, l) => {
            let sum = 0;
            for (let c = 0; c < C; c++) sum += r[(y * W + x) * C + c] * shifted(y, x - 6 * 0.4 * s, c);
            expected[(y * W + x) * inv.length + l] = sum / Math.sqrt(C);
          });
      expectClose(v, expected, { atol: 1e-5 });
      tf.dispose([ref, nbr, pose, cv]);
    });

    it(`${implementation}: points behind the neighbour camera correlate to exactly 0`, async () => {
      const ref = seededUniform([1, 5, 6, 3], 5) as tf.Tensor4D;
      const nbr = seededUniform([1, 5, 6, 3], 6) as tf.Tensor4D;
      // Neighbour 2 ahead of the reference along +z: depth 1 lies behind it, depth 4 in front.
      const pose = poseMatrix([0, 1, 0], 0, [0, 0, -2]);
      const cv = costVolume(ref, [nbr], { intrinsics: K, poses: [pose], inverseDepths: [1, 0.25], implementation });
      const v = await cv.data();
      const behind = Array.from(v).filter((_, i) => i % 2 === 0);
      const front = Array.from(v).filter((_, i) => i % 2 === 1);
      expect(behind.every((x) => x === 0)).toBe(true);
      expect(front.some((x) => x !== 0)).toBe(true);
      tf.dispose([ref, nbr, cv]);
    });
  }
});

describe('costVolume: random cameras', () => {
  for (const s of scenarios()) {
    it(`fused = plain-loop reference = composite (${s.name})`, async () => {
      const { reference, neighbours } = scenarioFeatures(s, 42);
      const expected = plainCostVolume(
        s,
        (await reference.data()) as Float32Array,
        await Promise.all(neighbours.map(async (n) => (await n.data()) as Float32Array)),
      );
      const nonZero = expected.filter((x) => x !== 0).length;
      expect(nonZero).toBeGreaterThan(expected.length / 2); // the cameras overlap: a meaningful comparison
      const options = s.options();
      const fused = costVolume(reference, neighbours, { ...options, implementation: 'fused' });
      const composite = costVolume(reference, neighbours, { ...options, implementation: 'composite', chunkSize: 4 });
      const auto = costVolume(reference, neighbours, options);
      const f = await fused.data();
      expect(fused.shape).toEqual([s.shape[0], s.shape[1], s.shape[2], 6]);
      expectClose(f, expected, { atol: 1e-5 });
      expectClose(await composite.data(), f, { atol: 1e-5 });
      expectClose(await auto.data(), f, { atol: 0 });
      tf.dispose([reference, ...neighbours, fused, composite, auto]);
      disposeOptions(options);
    });
  }

  it('composite gives the same volume for every chunk size', async () => {
    const s = scenarios()[1];
    const { reference, neighbours } = scenarioFeatures(s, 7);
    const options = s.options();
    const one = costVolume(reference, neighbours, { ...options, implementation: 'composite', chunkSize: 1 });
    const all = costVolume(reference, neighbours, { ...options, implementation: 'composite', chunkSize: 100 });
    expectClose(await one.data(), await all.data(), { atol: 1e-6 });
    tf.dispose([reference, ...neighbours, one, all]);
    disposeOptions(options);
  });
});

describe('costVolumeCpu', () => {
  it('reads zero padding for non-finite or huge sample positions', () => {
    const sizes = { batch: 1, height: 3, width: 4, channels: 2, depths: 3 };
    const ones = new Float32Array(24).fill(1);
    // A = 0, t = (X, 0, 1): every pixel lands at u = X for all depths.
    const at = (X: number) => costVolumeCpu(ones, ones, [0, 0, 0, 0, 0, 0, 0, 0, 0, X, 1, 1], [1, 1, 1], sizes);
    expect(Array.from(at(1.5)).every((v) => Math.abs(v - Math.SQRT2) < 1e-6)).toBe(true);
    for (const X of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 3e38, -1e20]) {
      expect(Array.from(at(X)).every((v) => v === 0)).toBe(true);
    }
  });
});
