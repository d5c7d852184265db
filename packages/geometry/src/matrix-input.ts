import * as tf from '@tensorflow/tfjs-core';

/**
 * A small matrix, or a batch of them, as a tensor (`[R,C]` or `[B,R,C]`), nested arrays, or a flat
 * row-major array of R*C (or B*R*C) numbers. Camera matrices are tiny and the warp math that uses them
 * runs once per batch on the CPU (the references compute it under no_grad), so they are read here,
 * synchronously: a tensor whose values live on the GPU (the output of a WebGPU op) cannot be read so in
 * Node and is refused with an error naming the argument; pass `await tensor.array()` instead.
 */
export type MatrixInput =
  | tf.Tensor
  | readonly (readonly number[])[]
  | readonly (readonly (readonly number[])[])[]
  | ArrayLike<number>;

/** Row-major matrices read to the CPU: `data[b*R*C + r*C + c]`; `batch` is null for an unbatched input. */
export interface MatrixBatch {
  data: Float64Array;
  batch: number | null;
  rows: number;
  cols: number;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 20))}`;
  return typeof value === 'object' ? (value.constructor?.name ?? 'object') : typeof value;
}

function flatten(value: unknown, out: number[], depth: number, shape: number[], name: string): void {
  if (typeof value === 'number') {
    if (depth !== shape.length && shape.length > 0) throw new Error(`${name}: ragged nested array`);
    out.push(value);
    return;
  }
  // Strings have a length too (and their characters are strings): refuse them before recursing.
  const arr = value as ArrayLike<unknown>;
  if (arr == null || typeof arr !== 'object' || typeof arr.length !== 'number') {
    throw new Error(
      `${name}: expected a tensor, numbers or nested arrays of numbers, got ${describe(value)}`,
    );
  }
  // A matrix batch is at most [B,R,C]: deeper nesting is a mistake, never a reason to recurse on.
  if (depth >= 3) throw new Error(`${name}: nested deeper than [B,R,C]`);
  if (shape.length === depth) shape.push(arr.length);
  else if (shape[depth] !== arr.length) throw new Error(`${name}: ragged nested array`);
  for (let i = 0; i < arr.length; i++) flatten(arr[i], out, depth + 1, shape, name);
}

/**
 * The values of a tensor argument read synchronously, or an error naming the argument when that is
 * impossible (on WebGPU in Node, `dataSync` of GPU-resident data throws an unrelated ReferenceError).
 */
export function readTensorSync(input: tf.Tensor, name: string): ArrayLike<number> {
  if (input.isDisposed) throw new Error(`${name}: the tensor is disposed`);
  try {
    return input.dataSync() as ArrayLike<number>;
  } catch (cause) {
    throw new Error(
      `${name}: cannot read this tensor synchronously on backend '${tf.getBackend()}' (its values live ` +
        `on the device); camera matrices are read on the CPU, so pass arrays, e.g. \`await t.array()\``,
      { cause },
    );
  }
}

/**
 * Reads `input` as R x C matrices, checking shape and finiteness. Errors name the argument.
 * Tensors are read with `dataSync()` (see {@link readTensorSync}): on WebGPU in Node, pass arrays.
 */
export function readMatrices(input: MatrixInput, rows: number, cols: number, name: string): MatrixBatch {
  let data: Float64Array;
  let shape: number[];
  if (input instanceof tf.Tensor) {
    shape = input.shape.slice();
    data = Float64Array.from(readTensorSync(input, name));
  } else if (ArrayBuffer.isView(input) || (Array.isArray(input) && typeof input[0] === 'number')) {
    data = Float64Array.from(input as ArrayLike<number>);
    const per = rows * cols;
    if (data.length === per) shape = [rows, cols];
    else if (data.length % per === 0 && data.length > 0) shape = [data.length / per, rows, cols];
    else throw new Error(`${name}: a flat array must hold ${per} or B*${per} numbers, got ${data.length}`);
  } else {
    const out: number[] = [];
    shape = [];
    flatten(input, out, 0, shape, name);
    data = Float64Array.from(out);
  }
  const batched = shape.length === 3;
  if (
    !(shape.length === 2 || batched) ||
    shape[shape.length - 2] !== rows ||
    shape[shape.length - 1] !== cols
  ) {
    throw new Error(
      `${name}: expected shape [${rows},${cols}] or [B,${rows},${cols}], got [${shape.join(',')}]`,
    );
  }
  if (batched && shape[0] < 1) throw new Error(`${name}: empty batch`);
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      const b = Math.floor(i / (rows * cols));
      throw new Error(`${name}: non-finite value ${data[i]}${batched ? ` in batch item ${b}` : ''}`);
    }
  }
  return { data, batch: batched ? shape[0] : null, rows, cols };
}

/** The b-th matrix of a batch (an unbatched input broadcasts to every b). */
export function matrixAt(m: MatrixBatch, b: number): Float64Array {
  const per = m.rows * m.cols;
  const i = m.batch === null ? 0 : b;
  return m.data.subarray(i * per, (i + 1) * per);
}

/** The batch size several matrix inputs agree on (null if all unbatched); errors name the disagreeing one. */
export function commonBatch(
  entries: ReadonlyArray<[string, number | null]>,
  initial: number | null = null,
): number | null {
  let batch = initial;
  let from = '';
  for (const [name, b] of entries) {
    if (b === null) continue;
    if (batch !== null && b !== batch) {
      throw new Error(`${name}: batch size ${b} does not match ${from || 'the inputs'} (${batch})`);
    }
    batch = b;
    from ||= name;
  }
  return batch;
}
