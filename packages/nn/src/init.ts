import * as tf from '@tensorflow/tfjs-core';

/**
 * A seedable random source (xoshiro128** seeded by splitmix32) with uniform and normal draws, in
 * JavaScript so the same seed gives the same parameters on every backend.
 *
 * @example
 * const rng = new Generator(42);
 * rng.uniform(); // in [0, 1)
 */
export class Generator {
  private s = new Uint32Array(4);
  private spareNormal: number | null = null;

  constructor(seed = 0) {
    this.manualSeed(seed);
  }

  /** Resets the state from `seed` (any finite number; its low 32 bits and integer part are used). */
  manualSeed(seed: number): this {
    if (!Number.isFinite(seed)) throw new Error(`Generator: seed must be a finite number, got ${seed}`);
    let x = Math.trunc(seed) >>> 0;
    for (let i = 0; i < 4; i++) {
      // splitmix32
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    this.spareNormal = null;
    return this;
  }

  private nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Standard normal (Box-Muller, polar form). */
  normal(): number {
    if (this.spareNormal !== null) {
      const v = this.spareNormal;
      this.spareNormal = null;
      return v;
    }
    for (;;) {
      const u = 2 * this.uniform() - 1;
      const v = 2 * this.uniform() - 1;
      const s = u * u + v * v;
      if (s > 0 && s < 1) {
        const f = Math.sqrt((-2 * Math.log(s)) / s);
        this.spareNormal = v * f;
        return u * f;
      }
    }
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

const defaultGenerator = new Generator(0);

/** Seeds the generator that every initialiser uses when given no `rng` (like `torch.manual_seed`). */
export function manualSeed(seed: number): void {
  defaultGenerator.manualSeed(seed);
}

/** Options shared by the random initialisers. */
export interface RandomInitOptions {
  /** Random source; defaults to the global one seeded by `manualSeed`. */
  rng?: Generator;
}

/**
 * PyTorch's fans for a weight in **tfjs layout**: conv `[kh,kw,in,out]` and Linear `[in,out]`, so
 * `fanIn = shape[-2]·receptive`, `fanOut = shape[-1]·receptive` with `receptive = prod(shape[:-2])`.
 * (PyTorch's `[out,in,kh,kw]` gives the same numbers; for a grouped conv `in` is `in/groups`.)
 * @param shape at least 2-D
 */
export function fanInFanOut(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 2) throw new Error(`fanInFanOut: shape must have at least 2 dims, got [${shape}]`);
  const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[shape.length - 2] * receptive, fanOut: shape[shape.length - 1] * receptive };
}

/** `torch.nn.init.calculate_gain` for the nonlinearities used here. */
export function calculateGain(
  nonlinearity: 'linear' | 'relu' | 'leaky_relu' | 'tanh' | 'sigmoid',
  param = 0.01,
) {
  switch (nonlinearity) {
    case 'linear':
    case 'sigmoid':
      return 1;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu':
      return Math.sqrt(2 / (1 + param * param));
    case 'tanh':
      return 5 / 3;
    default:
      throw new Error(`calculateGain: unknown nonlinearity '${nonlinearity}'`);
  }
}

function fill(shape: readonly number[], draw: () => number): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = draw();
  return tf.tensor(v, [...shape], 'float32');
}

/** `U(low, high)` samples. @returns float32 tensor of `shape` */
export function uniform(
  shape: readonly number[],
  low = 0,
  high = 1,
  { rng = defaultGenerator }: RandomInitOptions = {},
) {
  return fill(shape, () => low + (high - low) * rng.uniform());
}

/** `N(mean, std²)` samples. @returns float32 tensor of `shape` */
export function normal(
  shape: readonly number[],
  mean = 0,
  std = 1,
  { rng = defaultGenerator }: RandomInitOptions = {},
) {
  return fill(shape, () => mean + std * rng.normal());
}

/**
 * `torch.nn.init.kaiming_normal_`: `N(0, (gain/√fan)²)`, by default `mode='fan_out'`,
 * `nonlinearity='relu'` (gain √2), as the UniMatch CNN encoder initialises its convs.
 * @param shape weight shape in tfjs layout (`[kh,kw,in,out]` or `[in,out]`)
 * @example
 * const w = kaimingNormal([3, 3, 64, 64]); // std = √2 / √(64·9)
 */
export function kaimingNormal(
  shape: readonly number[],
  {
    mode = 'fan_out',
    nonlinearity = 'relu',
    a = 0,
    rng = defaultGenerator,
  }: RandomInitOptions & {
    mode?: 'fan_in' | 'fan_out';
    nonlinearity?: 'linear' | 'relu' | 'leaky_relu';
    a?: number;
  } = {},
): tf.Tensor {
  const { fanIn, fanOut } = fanInFanOut(shape);
  const std = calculateGain(nonlinearity, a) / Math.sqrt(mode === 'fan_in' ? fanIn : fanOut);
  return normal(shape, 0, std, { rng });
}

/**
 * `torch.nn.init.kaiming_uniform_`: `U(−b, b)` with `b = gain·√(3/fan)`. With `a = √5`, `fan_in` and
 * `leaky_relu` this is PyTorch's default Conv2d / Linear weight init, `U(−1/√fanIn, 1/√fanIn)`.
 * @param shape weight shape in tfjs layout
 */
export function kaimingUniform(
  shape: readonly number[],
  {
    mode = 'fan_in',
    nonlinearity = 'leaky_relu',
    a = 0,
    rng = defaultGenerator,
  }: RandomInitOptions & {
    mode?: 'fan_in' | 'fan_out';
    nonlinearity?: 'linear' | 'relu' | 'leaky_relu';
    a?: number;
  } = {},
): tf.Tensor {
  const { fanIn, fanOut } = fanInFanOut(shape);
  const bound = calculateGain(nonlinearity, a) * Math.sqrt(3 / (mode === 'fan_in' ? fanIn : fanOut));
  return uniform(shape, -bound, bound, { rng });
}

/**
 * `torch.nn.init.xavier_uniform_`: `U(−b, b)`, `b = gain·√(6/(fanIn+fanOut))` (the multi-view
 * transformer's init for every parameter with more than one dim).
 * @param shape weight shape in tfjs layout
 * @example
 * const w = xavierUniform([128, 128]); // b = √(6/256)
 */
export function xavierUniform(
  shape: readonly number[],
  { gain = 1, rng = defaultGenerator }: RandomInitOptions & { gain?: number } = {},
): tf.Tensor {
  const { fanIn, fanOut } = fanInFanOut(shape);
  const bound = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniform(shape, -bound, bound, { rng });
}

/**
 * timm's `trunc_normal_`: `N(mean, std²)` restricted to `[a, b]`. Note that `a`, `b` are absolute
 * values, not multiples of `std` (timm's defaults `std=0.02, a=−2, b=2` cut nothing in practice).
 * Sampled by rejection, which needs `[a, b]` to hold a reasonable share of the mass (≥ 1e-4).
 * @example
 * const pos = truncNormal([1, 197, 768]); // std 0.02, cut at ±2
 */
export function truncNormal(
  shape: readonly number[],
  {
    mean = 0,
    std = 0.02,
    a = -2,
    b = 2,
    rng = defaultGenerator,
  }: RandomInitOptions & { mean?: number; std?: number; a?: number; b?: number } = {},
): tf.Tensor {
  if (!(a < b)) throw new Error(`truncNormal: need a < b, got a=${a}, b=${b}`);
  if (!(std > 0)) throw new Error(`truncNormal: std must be > 0, got ${std}`);
  return fill(shape, () => {
    for (let tries = 0; tries < 10000; tries++) {
      const x = mean + std * rng.normal();
      if (x >= a && x <= b) return x;
    }
    throw new Error(
      `truncNormal: [${a}, ${b}] holds too little of N(${mean}, ${std}²) for rejection sampling`,
    );
  });
}

/** Zeros. @returns float32 tensor of `shape` */
export function zeros(shape: readonly number[]): tf.Tensor {
  return tf.zeros([...shape], 'float32');
}

/** Ones. @returns float32 tensor of `shape` */
export function ones(shape: readonly number[]): tf.Tensor {
  return tf.ones([...shape], 'float32');
}

/**
 * Overwrites `param` with `value` (same shape) and disposes `value`: the way to re-initialise a
 * registered parameter.
 * @example
 * for (const [, p] of model.namedParameters()) if (p.rank > 1) initParameter(p, xavierUniform(p.shape));
 */
export function initParameter(param: tf.Variable, value: tf.Tensor): void {
  try {
    if (value.shape.join(',') !== param.shape.join(',')) {
      throw new Error(`initParameter: value shape [${value.shape}] != parameter shape [${param.shape}]`);
    }
    const cast = value.dtype === param.dtype ? value : tf.cast(value, param.dtype);
    param.assign(cast);
    if (cast !== value) cast.dispose();
  } finally {
    value.dispose();
  }
}
