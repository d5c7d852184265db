import * as tf from '@tensorflow/tfjs-core';

/** A plane-sweep depth range: `count` candidates between `near` and `far` metres (or pose units). */
export interface DepthRange {
  near: number;
  far: number;
  count: number;
}

/**
 * Named depth ranges.
 * - `nyuv2Paper`: the CvM paper's NYUv2 setting (L = 128 over 0.0001–10 m). Uniform in 1/d, the
 *   candidates run from 1/d = 0.1 to 10000 in steps of 78.7 m⁻¹: only the far plane (10 m) lies
 *   beyond 1.3 cm, every other plane sits between 1.27 cm and 0.1 mm. At indoor baselines all but
 *   the first one or two planes project outside the neighbour image and read zeros.
 * - `indoor`: a sane indoor range (0.5–10 m, as GMDepth uses for ScanNet) with the same L = 128:
 *   steps of 0.0148 m⁻¹, i.e. planes 1.7 cm apart at 1 m and 35 cm apart at 5 m.
 */
export const DEPTH_PRESETS = {
  nyuv2Paper: { near: 1e-4, far: 10, count: 128 },
  indoor: { near: 0.5, far: 10, count: 128 },
} as const satisfies Record<string, DepthRange>;

/** Checks a depth range; errors name the offending field. */
export function checkDepthRange(near: number, far: number, count: number): void {
  if (!Number.isFinite(near) || near <= 0) throw new Error(`near: must be a finite number > 0, got ${near}`);
  if (!Number.isFinite(far)) throw new Error(`far: must be finite, got ${far}`);
  if (near >= far) throw new Error(`near (${near}) must be < far (${far})`);
  if (!Number.isInteger(count) || count < 1) throw new Error(`count: must be an integer >= 1, got ${count}`);
}

/** Checks host inverse depths (every value a finite number > 0); the error names the first bad one. */
export function checkInverseDepths(values: ArrayLike<unknown>, name = 'inverseDepths'): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(typeof v === 'number' && Number.isFinite(v) && v > 0)) {
      throw new Error(`${name}: every inverse depth must be finite and > 0, got ${v} at index ${i}`);
    }
  }
}

/** The candidates as float64 numbers, far → near (index 0 = 1/far). */
export function inverseDepthCandidatesData(near: number, far: number, count: number): Float64Array {
  checkDepthRange(near, far, count);
  const lo = 1 / far;
  const hi = 1 / near;
  const out = new Float64Array(count);
  // torch.linspace(0, 1, 1) is [0]: a single candidate is the far plane.
  for (let i = 0; i < count; i++) out[i] = count === 1 ? lo : lo + (i / (count - 1)) * (hi - lo);
  return out;
}

/**
 * Plane-sweep candidates uniform in inverse depth, stored as inverse depth, ordered far → near
 * (index 0 = 1/far, index count−1 = 1/near), as MVSplat/DepthSplat/UniMatch order them.
 * @returns `[count]` float32
 * @example inverseDepthCandidates(0.5, 10, 128)
 * @example inverseDepthCandidates(...Object.values(DEPTH_PRESETS.indoor))
 */
export function inverseDepthCandidates(near: number, far: number, count: number): tf.Tensor1D {
  return tf.tensor1d(Float32Array.from(inverseDepthCandidatesData(near, far, count)));
}
