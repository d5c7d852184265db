import * as tf from '@tensorflow/tfjs-core';
// tfjs-core alone registers no stock gradients (the @tensorflow/tfjs bundle does); tests need them.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { expect } from 'vitest';

/**
 * Central finite differences of `sum(f(x) * weights)` w.r.t. every element of `x`, in float64 on the
 * host (f still runs in float32 on the active backend, so use steps around 1e-2..1e-3).
 * @returns the numerical gradient, same length as `x`
 */
export async function finiteDifferenceGradient(
  f: (x: tf.Tensor) => tf.Tensor,
  x: tf.Tensor,
  weights: tf.Tensor,
  step = 1e-2,
  indices?: number[],
): Promise<Float64Array> {
  const base = Float64Array.from((await x.data()) as Float32Array);
  const w = (await weights.data()) as Float32Array;
  const out = new Float64Array(base.length);
  const evalAt = async (values: Float64Array): Promise<number> => {
    const xt = tf.tensor(Float32Array.from(values), x.shape);
    const y = f(xt);
    const v = (await y.data()) as Float32Array;
    tf.dispose([xt, y]);
    let s = 0;
    for (let i = 0; i < v.length; i++) s += v[i] * w[i];
    return s;
  };
  for (const i of indices ?? base.keys()) {
    const orig = base[i];
    base[i] = orig + step;
    const plus = await evalAt(base);
    base[i] = orig - step;
    const minus = await evalAt(base);
    base[i] = orig;
    out[i] = (plus - minus) / (2 * step);
  }
  return out;
}

/** Asserts `|a - b| <= atol + rtol * |b|` element-wise, reporting the worst element. */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  { atol = 1e-5, rtol = 0 }: { atol?: number; rtol?: number } = {},
): void {
  expect(actual.length).toBe(expected.length);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < actual.length; i++) {
    const excess = Math.abs(actual[i] - expected[i]) - (atol + rtol * Math.abs(expected[i]));
    if (!(excess <= worstExcess)) {
      worstExcess = Number.isNaN(excess) ? Number.POSITIVE_INFINITY : excess;
      worst = i;
    }
  }
  if (worst >= 0) {
    expect.fail(
      `element ${worst}: ${actual[worst]} vs ${expected[worst]} (|diff| ${Math.abs(actual[worst] - expected[worst])}, atol ${atol}, rtol ${rtol})`,
    );
  }
}

function countTensors(value: unknown, seen = new Set<unknown>()): number {
  if (value instanceof tf.Tensor) {
    if (seen.has(value)) return 0;
    seen.add(value);
    return 1;
  }
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + countTensors(v, seen), 0);
  if (value && typeof value === 'object')
    return Object.values(value).reduce((n: number, v) => n + countTensors(v, seen), 0);
  return 0;
}

/**
 * Runs `fn` and asserts that the only tensors it leaves alive are the ones it returns (a tensor, or
 * tensors inside an array or object).
 */
export async function expectNoLeaks<T>(fn: () => T | Promise<T>): Promise<T> {
  const before = tf.memory().numTensors;
  const result = await fn();
  expect(tf.memory().numTensors - before - countTensors(result), 'tensors leaked').toBe(0);
  return result;
}

/** A seeded float32 tensor with values uniform in [lo, hi) (tfjs's random ops are seedable too, but this is backend-independent). */
export function seededUniform(shape: number[], seed: number, lo = -1, hi = 1): tf.Tensor {
  let s = seed >>> 0 || 1;
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    // xorshift32
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    v[i] = lo + ((s >>> 8) / 16777216) * (hi - lo);
  }
  return tf.tensor(v, shape);
}

/** Asserts that `fn` throws a message matching `pattern` and leaves no tensor behind. */
export function expectErrorWithoutLeaks(fn: () => unknown, pattern: RegExp): void {
  const before = tf.memory().numTensors;
  expect(fn).toThrow(pattern);
  expect(tf.memory().numTensors, 'tensors leaked by the failed call').toBe(before);
}

/**
 * A tensor computed by a kernel of the active (webgpu) backend, whose values therefore live only on the
 * GPU: the backend would otherwise run such a small op on the cpu (WEBGPU_CPU_FORWARD).
 */
export function gpuResident(values: tf.TensorLike, shape?: number[]): tf.Tensor {
  const forward = tf.env().getBool('WEBGPU_CPU_FORWARD');
  tf.env().set('WEBGPU_CPU_FORWARD', false);
  try {
    return tf.mul(tf.tensor(values, shape), 1);
  } finally {
    tf.env().set('WEBGPU_CPU_FORWARD', forward);
  }
}

/**
 * A small pinhole camera for tests on tiny images (about 8×6 px): focal 6, principal point (3.5, 2.5).
 */
export const SMALL_INTRINSICS: number[][] = [
  [6, 0, 3.5],
  [0, 6, 2.5],
  [0, 0, 1],
];

/** `T_nbr<-ref` of a 0.1 translation along +x, the relative pose of the tests' two-view rig. */
export const SMALL_BASELINE_POSE: number[][] = [
  [1, 0, 0, 0.1],
  [0, 1, 0, 0],
  [0, 0, 1, 0],
  [0, 0, 0, 1],
];
