import { useWebGPUForTests } from '@cvm/backend';
import { expectClose, expectNoLeaks, gpuResident, seededUniform } from '@cvm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { costVolume } from '../src/index.js';
import { costVolumeCpu, costVolumeGradCpu } from '../src/kernels/cpu-impl.js';
import '../src/kernels/webgpu.js';
import fixtures from './fixtures/cost_volume.json' with { type: 'json' };

/**
 * The WebGPU kernels against a plain-loop float64 reference written here from the formula:
 * out[b,y,x,l] = (1/√C) Σ_c ref[b,y,x,c] · bilinear_zeros(nbr[b], u, v)[c],
 * d = 1/ι[b,l], P = d·A·[x,y,1] + t, z = max(P_z, 1e-3), (u, v) = P_xy / z.
 */

type Shape4 = [number, number, number, number];

interface Case {
  reference: Float32Array;
  neighbour: Float32Array;
  projection: Float32Array;
  inverseDepths: Float32Array;
  dy: Float32Array;
  shape: Shape4;
  depths: number;
}

/** Taps of one sample: flat neighbour row (b·H + y)·W + x and bilinear weight, only those inside. */
function referenceTaps(c: Case, b: number, x: number, y: number, l: number): Array<[number, number]> {
  const [, H, W] = c.shape;
  const p = Array.from(c.projection.subarray(b * 12, b * 12 + 12));
  const d = 1 / c.inverseDepths[b * c.depths + l];
  const q = [0, 1, 2].map((r) => p[3 * r] * x + p[3 * r + 1] * y + p[3 * r + 2]);
  const P = [0, 1, 2].map((r) => d * q[r] + p[9 + r]);
  const z = Math.max(P[2], 1e-3);
  const u = P[0] / z;
  const v = P[1] / z;
  if (!Number.isFinite(u) || !Number.isFinite(v) || Math.abs(u) > 1e7 || Math.abs(v) > 1e7) return [];
  const x0 = Math.floor(u);
  const y0 = Math.floor(v);
  const taps: Array<[number, number]> = [];
  for (const [xi, wx] of [
    [x0, 1 - (u - x0)],
    [x0 + 1, u - x0],
  ]) {
    for (const [yi, wy] of [
      [y0, 1 - (v - y0)],
      [y0 + 1, v - y0],
    ]) {
      if (xi >= 0 && xi <= W - 1 && yi >= 0 && yi <= H - 1) taps.push([(b * H + yi) * W + xi, wx * wy]);
    }
  }
  return taps;
}

function referenceCostVolume(c: Case): {
  out: Float64Array;
  dReference: Float64Array;
  dNeighbour: Float64Array;
} {
  const [B, H, W, C] = c.shape;
  const L = c.depths;
  const scale = 1 / Math.sqrt(C);
  const out = new Float64Array(B * H * W * L);
  const dReference = new Float64Array(B * H * W * C);
  const dNeighbour = new Float64Array(B * H * W * C);
  for (let b = 0; b < B; b++) {
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const pixel = (b * H + y) * W + x;
        for (let l = 0; l < L; l++) {
          const o = pixel * L + l;
          for (const [row, w] of referenceTaps(c, b, x, y, l)) {
            for (let ch = 0; ch < C; ch++) {
              const r = c.reference[pixel * C + ch];
              const n = c.neighbour[row * C + ch];
              out[o] += scale * w * r * n;
              dReference[pixel * C + ch] += scale * c.dy[o] * w * n;
              dNeighbour[row * C + ch] += scale * c.dy[o] * w * r;
            }
          }
        }
      }
    }
  }
  return { out, dReference, dNeighbour };
}

/** A = K·R·K⁻¹ and t' = K·t for a pinhole K, a rotation of `angles` (rad, about x, y, z) and translation t. */
function projectionFrom(
  size: { H: number; W: number },
  angles: [number, number, number],
  t: [number, number, number],
): number[] {
  const fx = 0.9 * size.W;
  const fy = 0.9 * size.W;
  const cx = (size.W - 1) / 2;
  const cy = (size.H - 1) / 2;
  const K = [fx, 0, cx, 0, fy, cy, 0, 0, 1];
  const Kinv = [1 / fx, 0, -cx / fx, 0, 1 / fy, -cy / fy, 0, 0, 1];
  const mul = (a: number[], b: number[]) =>
    Array.from({ length: 9 }, (_, i) => {
      const r = Math.floor(i / 3);
      const col = i % 3;
      return a[3 * r] * b[col] + a[3 * r + 1] * b[3 + col] + a[3 * r + 2] * b[6 + col];
    });
  const [ax, ay, az] = angles;
  const Rx = [1, 0, 0, 0, Math.cos(ax), -Math.sin(ax), 0, Math.sin(ax), Math.cos(ax)];
  const Ry = [Math.cos(ay), 0, Math.sin(ay), 0, 1, 0, -Math.sin(ay), 0, Math.cos(ay)];
  const Rz = [Math.cos(az), -Math.sin(az), 0, Math.sin(az), Math.cos(az), 0, 0, 0, 1];
  const A = mul(mul(K, mul(Rz, mul(Ry, Rx))), Kinv);
  const kt = [0, 1, 2].map((r) => K[3 * r] * t[0] + K[3 * r + 1] * t[1] + K[3 * r + 2] * t[2]);
  return [...A, ...kt];
}

async function values(t: tf.Tensor): Promise<Float32Array> {
  return (await t.data()) as Float32Array;
}

async function makeCase(
  shape: Shape4,
  projections: number[][],
  inverseDepths: number[][],
  seed: number,
): Promise<Case> {
  const tensors = [
    seededUniform(shape, seed),
    seededUniform(shape, seed + 1),
    seededUniform([shape[0], shape[1], shape[2], inverseDepths[0].length], seed + 2),
  ];
  const [reference, neighbour, dy] = await Promise.all(tensors.map(values));
  tf.dispose(tensors);
  return {
    reference,
    neighbour,
    dy,
    projection: Float32Array.from(projections.flat()),
    inverseDepths: Float32Array.from(inverseDepths.flat()),
    shape,
    depths: inverseDepths[0].length,
  };
}

/** Runs both kernels on the active backend, leaving no tensors behind. */
async function runKernels(
  c: Case,
): Promise<{ out: Float32Array; dReference: Float32Array; dNeighbour: Float32Array }> {
  return expectNoLeaks(async () => {
    const [B, H, W] = c.shape;
    const inputs = {
      reference: tf.tensor(c.reference, c.shape),
      neighbour: tf.tensor(c.neighbour, c.shape),
      projection: tf.tensor(c.projection, [B, 12]),
      inverseDepths: tf.tensor(c.inverseDepths, [B, c.depths]),
    };
    const dy = tf.tensor(c.dy, [B, H, W, c.depths]);
    const out = tf.engine().runKernel('CvmCostVolume', inputs, {}) as tf.Tensor;
    const grads = tf.engine().runKernel('CvmCostVolumeGrad', { dy, ...inputs }, {}) as tf.Tensor[];
    expect(out.shape).toEqual([B, H, W, c.depths]);
    expect(grads.map((g) => g.shape)).toEqual([c.shape, c.shape]);
    const [o, dr, dn] = await Promise.all([out, ...grads].map(values));
    tf.dispose([out, ...grads, dy, ...Object.values(inputs)]);
    return { out: o, dReference: dr, dNeighbour: dn };
  });
}

/** Asserts kernels == reference, and that the case is not degenerate (some samples in, some out). */
async function checkCase(c: Case, { expectEmpty = false } = {}) {
  const expected = referenceCostVolume(c);
  const actual = await runKernels(c);
  expectClose(actual.out, expected.out, { atol: 1e-5 });
  expectClose(actual.dReference, expected.dReference, { atol: 1e-4 });
  expectClose(actual.dNeighbour, expected.dNeighbour, { atol: 1e-4 });
  const nonZero = expected.out.filter((v) => v !== 0).length;
  if (expectEmpty) expect(nonZero).toBe(0);
  else expect(nonZero).toBeGreaterThan(0);
  return { expected, actual };
}

const H = 7;
const W = 9;
// Rotation + translation with t_z < 0: candidates with depth below ~2 land behind the neighbour camera.
const rotated = projectionFrom({ H, W }, [0.05, -0.08, 0.03], [0.3, -0.1, -2]);
const rotatedOther = projectionFrom({ H, W }, [-0.04, 0.1, -0.06], [-0.25, 0.2, 0.4]);
const farToNear = [0.1, 0.3, 0.5, 0.7, 0.9];
// Pure integer shift: A = I, t = (2, -1, 0); at ι = 1 (d = 1), (u, v) = (x + 2, y - 1) exactly.
const shift = [1, 0, 0, 0, 1, 0, 0, 0, 1, 2, -1, 0];

let available = false;

beforeAll(async () => {
  tf.env().set('IS_TEST', true);
  available = await useWebGPUForTests();
});

afterAll(() => {
  // Dawn keeps the process alive while navigator.gpu is referenced.
  const nav = (globalThis as { navigator?: { gpu?: unknown } }).navigator;
  if (nav?.gpu) Object.defineProperty(nav, 'gpu', { value: undefined, configurable: true });
});

describe('CvmCostVolume / CvmCostVolumeGrad on webgpu', () => {
  it.for([
    { name: 'B=1 C=3 (scalar path) L=5', shape: [1, H, W, 3], seed: 10 },
    { name: 'B=1 C=4 (vec4 path) L=5', shape: [1, H, W, 4], seed: 20 },
    { name: 'B=1 C=32 (vec4 path) L=5', shape: [1, H, W, 32], seed: 30 },
  ] as Array<{ name: string; shape: Shape4; seed: number }>)(
    'matches the reference with rotation, translation and candidates behind the camera: $name',
    async ({ shape, seed }, ctx) => {
      if (!available) return ctx.skip();
      const c = await makeCase(shape, [rotated], [farToNear], seed);
      const { expected } = await checkCase(c);
      // Depth 1/0.9 < 2: every sample of the nearest candidate is behind the neighbour camera → 0.
      const L = 5;
      for (let i = L - 1; i < expected.out.length; i += L) expect(expected.out[i]).toBe(0);
      // The farthest candidate does see the image.
      expect(expected.out.filter((v, i) => i % L === 0 && v !== 0).length).toBeGreaterThan(0);
    },
  );

  it('handles B=2 with a different projection and depths per batch item', async (ctx) => {
    if (!available) return ctx.skip();
    for (const C of [3, 8]) {
      const c = await makeCase(
        [2, H, W, C],
        [rotated, rotatedOther],
        [farToNear, [0.2, 0.25, 0.6, 1.5, 3]],
        40 + C,
      );
      await checkCase(c);
    }
  });

  it('handles L larger than one block of candidates per invocation (L=37)', async (ctx) => {
    if (!available) return ctx.skip();
    const many = Array.from({ length: 37 }, (_, i) => 0.05 + 0.025 * i);
    for (const C of [3, 4]) await checkCase(await makeCase([1, H, W, C], [rotated], [many], 90 + C));
  });

  it('handles L=1 and odd image sizes', async (ctx) => {
    if (!available) return ctx.skip();
    const other = projectionFrom({ H: 5, W: 6 }, [0.02, 0.03, 0.1], [0.1, 0.05, 0.2]);
    await checkCase(await makeCase([1, 5, 6, 32], [other], [[0.4]], 50));
    await checkCase(await makeCase([2, 5, 6, 3], [other, other], [[0.4], [0.8]], 51));
  });

  it('samples exact integer positions and the image border (zero padding)', async (ctx) => {
    if (!available) return ctx.skip();
    // ι = 1: (x+2, y-1), integer taps, the last two columns and the first row fall outside;
    // ι = 0.5: (x+1, y-0.5); ι = 0.25: (x+0.5, y-0.25); a half-weight tap on the border.
    for (const C of [3, 4]) {
      const c = await makeCase([1, H, W, C], [shift], [[1, 0.5, 0.25]], 60 + C);
      const { actual } = await checkCase(c);
      // Spot check against the definition: out[y=3, x=1, l=0] = ref[3,1]·nbr[2,3] / √C.
      let dot = 0;
      for (let ch = 0; ch < C; ch++)
        dot += c.reference[(3 * W + 1) * C + ch] * c.neighbour[(2 * W + 3) * C + ch];
      expect(actual.out[(3 * W + 1) * 3]).toBeCloseTo(dot / Math.sqrt(C), 5);
      // x = W-2 → u = W: fully outside at l=0; y = 0 → v = -1: outside.
      expect(actual.out[(3 * W + W - 2) * 3]).toBe(0);
      expect(actual.out[(0 * W + 4) * 3]).toBe(0);
    }
  });

  it('accumulates many candidates that sample the same 2×2 taps (merged scatter in dNeighbour)', async (ctx) => {
    if (!available) return ctx.skip();
    // (u, v) = (x + 0.3ι, y + 0.2ι): ι in [1, 1.7] stays inside the same cell for every pixel.
    const small = [1, 0, 0, 0, 1, 0, 0, 0, 1, 0.3, 0.2, 0];
    const dense = [1, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7];
    for (const C of [3, 8]) await checkCase(await makeCase([1, H, W, C], [small], [dense], 80 + C));
  });

  it('is not confused by stale memory when a call has fewer sampling runs than the previous one', async (ctx) => {
    if (!available) return ctx.skip();
    // Same shapes, so tfjs hands the freed intermediate buffers of one call to the next.
    const depths = [0.2, 0.4, 0.6, 0.8, 1, 1.2, 1.4, 1.6];
    const small = [1, 0, 0, 0, 1, 0, 0, 0, 1, 0.3, 0.2, 0];
    for (const projection of [rotatedOther, small, rotatedOther, small]) {
      await checkCase(await makeCase([1, H, W, 4], [projection], [depths], 100));
    }
  });

  it('gives zeros (and zero gradients) for a zero inverse depth and far-away samples', async (ctx) => {
    if (!available) return ctx.skip();
    // ι = 0 (d = ∞) is non-finite; ι = 1e6 with t = (1e5, 0, 0): z clamps to 1e-3, u ≈ 1e8 pixels.
    const far = [1, 0, 0, 0, 1, 0, 0, 0, 1, 1e5, 0, 0];
    const c = await makeCase([2, H, W, 4], [shift, far], [[0], [1e6]], 70);
    const { actual } = await checkCase(c, { expectEmpty: true });
    expect(actual.out.every((v) => v === 0)).toBe(true);
    expect(actual.dNeighbour.every((v) => v === 0)).toBe(true);
  });
});

describe('webgpu kernels against the other implementations', () => {
  it('equal the cpu kernels on a larger case (B=2, 12×16, C=16, L=40, handheld-like cameras)', async (ctx) => {
    if (!available) return ctx.skip();
    const size = { H: 12, W: 16 };
    const projections = [
      projectionFrom(size, [0.04, -0.06, 0.02], [0.2, -0.05, 0.05]),
      projectionFrom(size, [-0.03, 0.05, -0.04], [-0.15, 0.1, -0.6]),
    ];
    const depths = Array.from({ length: 40 }, (_, i) => 0.1 + (1.9 * i) / 39);
    const c = await makeCase([2, size.H, size.W, 16], projections, [depths, depths], 110);
    const sizes = { batch: 2, height: size.H, width: size.W, channels: 16, depths: 40 };
    const out = costVolumeCpu(c.reference, c.neighbour, c.projection, c.inverseDepths, sizes);
    const grads = costVolumeGradCpu(c.dy, c.reference, c.neighbour, c.projection, c.inverseDepths, sizes);
    const actual = await runKernels(c);
    expectClose(actual.out, out, { atol: 1e-5 });
    expectClose(actual.dReference, grads.dReference, { atol: 1e-4 });
    expectClose(actual.dNeighbour, grads.dNeighbour, { atol: 1e-4 });
    expect(out.filter((v) => v !== 0).length).toBeGreaterThan(out.length / 2);
  });

  it.for(fixtures.cases)(
    'give the PyTorch volume and gradients through the public op: $name',
    async (fx, ctx) => {
      if (!available) return ctx.skip();
      const [B, , , C] = fx.shape as Shape4;
      await expectNoLeaks(async () => {
        const reference = tf.tensor4d(fx.reference, fx.shape as Shape4);
        const neighbours = fx.neighbours.map((n) => tf.tensor4d(n, fx.shape as Shape4));
        const options = {
          intrinsics: tf.tensor3d(fx.intrinsics, [B, 3, 3]),
          poses: fx.poses.map((p) => tf.tensor3d(p, [B, 4, 4])),
          inverseDepths: tf.tensor2d(fx.inverseDepths, [B, fx.depths]),
          implementation: 'fused' as const,
        };
        const dy = tf.tensor4d(fx.dy, [B, fx.shape[1], fx.shape[2], fx.depths]);
        const volume = costVolume(reference, neighbours, options);
        const grads = tf.grads((r: tf.Tensor, ...n: tf.Tensor[]) =>
          tf.sum(tf.mul(costVolume(r as tf.Tensor4D, n as tf.Tensor4D[], options), dy)),
        )([reference, ...neighbours]);
        expectClose(await values(volume), fx.volume, { atol: 1e-5 });
        expectClose(await values(grads[0]), fx.dReference, { atol: 1e-4 });
        for (let i = 0; i < neighbours.length; i++) {
          expectClose(await values(grads[i + 1]), fx.dNeighbours[i], { atol: 1e-4 });
        }
        expect(C).toBe(5); // odd channel count: the scalar path
        tf.dispose([
          reference,
          ...neighbours,
          options.intrinsics,
          ...options.poses,
          options.inverseDepths,
          dy,
          volume,
          ...grads,
        ]);
      });
    },
  );
});

describe('costVolume composite path on webgpu', () => {
  it('equals the fused webgpu kernels, forward and gradients', async (ctx) => {
    if (!available) return ctx.skip();
    const ref = seededUniform([1, 6, 7, 8], 71) as tf.Tensor4D;
    const nbr = seededUniform([1, 6, 7, 8], 72) as tf.Tensor4D;
    const dy = seededUniform([1, 6, 7, 5], 73);
    const K = [
      [6, 0, 3],
      [0, 6, 2.5],
      [0, 0, 1],
    ];
    const c = Math.cos(0.05);
    const s = Math.sin(0.05);
    const pose = [
      [c, 0, s, 0.2],
      [0, 1, 0, -0.05],
      [-s, 0, c, 0.1],
      [0, 0, 0, 1],
    ];
    const run = async (implementation: 'fused' | 'composite') => {
      const options = {
        intrinsics: K,
        poses: [pose],
        inverseDepths: farToNear,
        implementation,
        chunkSize: 2,
      };
      const volume = costVolume(ref, [nbr], options);
      const grads = tf.grads((r: tf.Tensor, n: tf.Tensor) =>
        costVolume(r as tf.Tensor4D, [n as tf.Tensor4D], options),
      )([ref, nbr], dy);
      const values = await Promise.all([volume, ...grads].map((t) => t.data()));
      tf.dispose([volume, ...grads]);
      return values;
    };
    const fused = await run('fused');
    const composite = await expectNoLeaks(() => run('composite'));
    expectClose(composite[0], fused[0], { atol: 1e-5 });
    expectClose(composite[1], fused[1], { atol: 1e-4 });
    expectClose(composite[2], fused[2], { atol: 1e-4 });
    tf.dispose([ref, nbr, dy]);
  });
});

describe('GPU-resident inputs on webgpu', () => {
  const K = [
    [6, 0, 3],
    [0, 6, 2.5],
    [0, 0, 1],
  ];
  const pose = [
    [1, 0, 0, 0.2],
    [0, 1, 0, -0.05],
    [0, 0, 1, 0.1],
    [0, 0, 0, 1],
  ];
  const onGpu = gpuResident;

  it('inverseDepths computed on the GPU stay there and give the same volume and gradients', async (ctx) => {
    if (!available) return ctx.skip();
    const ref = seededUniform([1, 6, 7, 8], 81) as tf.Tensor4D;
    const nbr = seededUniform([1, 6, 7, 8], 82) as tf.Tensor4D;
    const inverseDepths = onGpu(farToNear);
    // The premise: such a tensor cannot be read synchronously here (dataSync throws).
    expect(() => inverseDepths.dataSync()).toThrow();
    for (const implementation of ['fused', 'composite'] as const) {
      const run = async (candidates: tf.Tensor | number[]) => {
        const options = { intrinsics: K, poses: [pose], inverseDepths: candidates, implementation };
        const volume = costVolume(ref, [nbr], options);
        const [dRef] = tf.grads((r: tf.Tensor) => costVolume(r as tf.Tensor4D, [nbr], options))([ref]);
        const values = await Promise.all([volume.data(), dRef.data()]);
        tf.dispose([volume, dRef]);
        return values;
      };
      const fromGpu = await expectNoLeaks(() => run(inverseDepths));
      const fromArray = await run(farToNear);
      expectClose(fromGpu[0], fromArray[0], { atol: 1e-6 });
      expectClose(fromGpu[1], fromArray[1], { atol: 1e-6 });
    }
    tf.dispose([ref, nbr, inverseDepths]);
  });

  it('a GPU candidate that is not finite and > 0 gives a zero plane (checked in the kernel)', async (ctx) => {
    if (!available) return ctx.skip();
    const ref = seededUniform([1, 6, 7, 8], 83) as tf.Tensor4D;
    const nbr = seededUniform([1, 6, 7, 8], 84) as tf.Tensor4D;
    const inverseDepths = onGpu([0.5, 0, -0.5, Number.NaN, Number.POSITIVE_INFINITY, 1]);
    for (const implementation of ['fused', 'composite'] as const) {
      const volume = costVolume(ref, [nbr], { intrinsics: K, poses: [pose], inverseDepths, implementation });
      const planes = (await tf.transpose(volume, [3, 0, 1, 2]).array()) as number[][][][];
      const clean = costVolume(ref, [nbr], {
        intrinsics: K,
        poses: [pose],
        inverseDepths: [0.5, 1],
        implementation,
      });
      const expected = (await tf.transpose(clean, [3, 0, 1, 2]).array()) as number[][][][];
      expectClose(planes[0].flat(2), expected[0].flat(2), { atol: 1e-6 });
      expectClose(planes[5].flat(2), expected[1].flat(2), { atol: 1e-6 });
      for (let l = 1; l <= 4; l++)
        expect(
          planes[l].flat(2).every((v) => v === 0),
          `${implementation} plane ${l}`,
        ).toBe(true);
      tf.dispose([volume, clean]);
    }
    tf.dispose([ref, nbr, inverseDepths]);
  });

  it('a camera matrix computed on the GPU gives an error naming it (pass arrays)', async (ctx) => {
    if (!available) return ctx.skip();
    const ref = seededUniform([1, 6, 7, 8], 85) as tf.Tensor4D;
    const gpuPose = onGpu(pose);
    const gpuK = onGpu(K);
    const before = tf.memory().numTensors;
    const options = { intrinsics: K, poses: [gpuPose], inverseDepths: farToNear };
    expect(() => costVolume(ref, [ref], options)).toThrow(
      /^poses\[0\]: cannot read this tensor synchronously on backend 'webgpu' .*pass arrays, e\.g\. `await t\.array\(\)`/,
    );
    expect(() => costVolume(ref, [ref], { ...options, poses: [pose], intrinsics: gpuK })).toThrow(
      /^intrinsics: cannot read/,
    );
    expect(tf.memory().numTensors).toBe(before);
    // The named remedy works.
    const volume = costVolume(ref, [ref], { ...options, poses: [(await gpuPose.array()) as number[][]] });
    expect(volume.shape).toEqual([1, 6, 7, 5]);
    tf.dispose([ref, gpuPose, gpuK, volume]);
  });
});
