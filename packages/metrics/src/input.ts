import type { Tensor } from '@tensorflow/tfjs-core';

/** A plain array with its NHWC shape (row-major, last axis fastest), e.g. `{data: Float32Array, shape: [B,H,W,C]}`. */
export interface ShapedArray {
  data: ArrayLike<number>;
  shape: readonly number[];
}

/** What every evaluator accepts: a tfjs tensor (read with `await t.data()`) or a typed array with its shape. */
export type DenseInput = Tensor | ShapedArray;

/** A read input: the values and the shape they came with. */
export interface ReadArray {
  data: ArrayLike<number>;
  shape: number[];
}

function isTensor(x: unknown): x is Tensor {
  return (
    typeof x === 'object' &&
    x !== null &&
    'dataId' in x &&
    typeof (x as Tensor).data === 'function' &&
    Array.isArray((x as Tensor).shape)
  );
}

/**
 * The options object of an evaluator's constructor, or a clear error naming what is missing (instead of a
 * TypeError from destructuring `undefined`). `required` lists the options without a default.
 */
export function readOptions<T extends object>(
  options: T | undefined,
  evaluator: string,
  required: readonly (keyof T & string)[],
  hint: string,
): T {
  if (typeof options !== 'object' || options === null) {
    throw new Error(`${evaluator}: options are required: pass ${hint}; got ${String(options)}`);
  }
  const missing = required.filter((k) => options[k] === undefined);
  if (missing.length > 0) throw new Error(`${evaluator}: missing option ${missing.join(', ')}: pass ${hint}`);
  return options;
}

/** Reads a tensor (async, works on every backend) or checks a `{data, shape}` pair. */
export async function readInput(x: DenseInput, name: string): Promise<ReadArray> {
  if (isTensor(x)) return { data: await x.data(), shape: [...x.shape] };
  return readSync(x, name);
}

/** Synchronous variant for plain arrays; tensors are rejected (use the async `update`). */
export function readSync(x: ShapedArray, name: string): ReadArray {
  if (isTensor(x)) throw new Error(`${name}: tensors must go through the async update(); got a tensor`);
  if (typeof x !== 'object' || x === null || !('data' in x) || !('shape' in x)) {
    throw new Error(`${name}: expected a tf.Tensor or {data, shape}; got ${typeof x}`);
  }
  const shape = [...x.shape];
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new Error(`${name}: shape must be non-negative integers; got [${shape}]`);
  }
  const size = shape.reduce((a, b) => a * b, 1);
  if (x.data.length !== size) {
    throw new Error(`${name}: data has ${x.data.length} values but shape [${shape}] needs ${size}`);
  }
  return { data: x.data, shape };
}

/** A dense map normalised to `[B,H,W,C]`. */
export interface Nhwc {
  data: ArrayLike<number>;
  b: number;
  h: number;
  w: number;
  c: number;
}

/**
 * Interprets a shape as `[B,H,W,C]`. `channels` is the expected C: for C = 1 the shapes `[H,W]`,
 * `[B,H,W]` and `[B,H,W,1]` are accepted; otherwise `[H,W,C]` or `[B,H,W,C]`.
 */
export function asNhwc(x: ReadArray, name: string, channels: number | 'any'): Nhwc {
  const s = x.shape;
  let b: number;
  let h: number;
  let w: number;
  let c: number;
  if (s.length === 4) [b, h, w, c] = s;
  else if (s.length === 3 && channels === 1) [b, h, w, c] = [s[0], s[1], s[2], 1];
  else if (s.length === 3) [b, h, w, c] = [1, s[0], s[1], s[2]];
  else if (s.length === 2 && channels === 1) [b, h, w, c] = [1, s[0], s[1], 1];
  else {
    throw new Error(
      `${name}: expected ${channels === 1 ? '[H,W], [B,H,W] or [B,H,W,1]' : '[H,W,C] or [B,H,W,C]'}; got [${s}]`,
    );
  }
  if (channels !== 'any' && c !== channels) {
    throw new Error(`${name}: expected ${channels} channel(s) in the last axis; got shape [${s}]`);
  }
  return { data: x.data, b, h, w, c };
}

/** Throws unless the two maps have the same batch and spatial size. */
export function checkSameSize(a: Nhwc, an: string, g: Nhwc, gn: string): void {
  if (a.b !== g.b || a.h !== g.h || a.w !== g.w) {
    throw new Error(
      `${an} and ${gn} differ in size: [B,H,W] = [${a.b},${a.h},${a.w}] vs [${g.b},${g.h},${g.w}]`,
    );
  }
}

/** Where a flat NHWC index points, for error messages. */
export function where(i: number, x: Nhwc): string {
  const c = i % x.c;
  const p = (i - c) / x.c;
  const col = p % x.w;
  const row = ((p - col) / x.w) % x.h;
  const b = Math.floor(p / (x.w * x.h));
  return `[b=${b}, y=${row}, x=${col}${x.c > 1 ? `, c=${c}` : ''}]`;
}

/** What to do with NaN / ±Inf predictions. */
export type NonFinitePolicy = 'error' | 'skip';

/** Throws a clear error for the first non-finite prediction, or counts them when `policy` is `'skip'`. */
export function nonFiniteError(name: string, i: number, x: Nhwc, v: number): Error {
  return new Error(
    `${name}: non-finite prediction ${v} at ${where(i, x)}; fix the model output or pass {nonFinite: 'skip'} ` +
      '(those pixels are then left out and counted in result.skippedNonFinite)',
  );
}

/** The `update` / `updateSync` pair shared by every prediction-vs-ground-truth evaluator. */
export abstract class PairEvaluator {
  /** Adds a batch: tfjs tensors (read with `await t.data()`) or typed arrays with their shapes. */
  async update(pred: DenseInput, gt: DenseInput): Promise<void> {
    this.add(await readInput(pred, 'pred'), await readInput(gt, 'gt'));
  }

  /** Synchronous `update` for typed arrays. */
  updateSync(pred: ShapedArray, gt: ShapedArray): void {
    this.add(readSync(pred, 'pred'), readSync(gt, 'gt'));
  }

  protected abstract add(pred: ReadArray, gt: ReadArray): void;
}
