import * as tf from '@tensorflow/tfjs-core';
import {
  bfloat16BitsToFloat32,
  float16BitsToFloat32,
  float32ToBfloat16Bits,
  float32ToFloat16Bits,
} from './half.js';

// The safetensors format: u64 little-endian header length N, N bytes of UTF-8 JSON
// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {str: str}}, then the raw
// little-endian data; offsets are relative to the start of the data.

/** Element types this reader understands. */
export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

const BYTES: Record<SafetensorsDtype, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

/** Upper bound on the JSON header, as in the reference implementation. */
const MAX_HEADER_BYTES = 100_000_000;

/** One tensor decoded to host memory: floats as float32, integers as int32, BOOL as 0/1 bytes. */
export interface DecodedTensor {
  /** The dtype stored in the file. */
  dtype: SafetensorsDtype;
  shape: number[];
  values: Float32Array | Int32Array | Uint8Array;
}

/** Decoded file contents. */
export interface SafetensorsContents {
  /** Tensors by name, in header order. */
  tensors: Record<string, DecodedTensor>;
  /** The optional `__metadata__` string map. */
  metadata: Record<string, string>;
}

/** Header entry, validated. */
interface Entry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

function fail(message: string): never {
  throw new Error(`safetensors: ${message}`);
}

function asBytes(data: ArrayBuffer | ArrayBufferView): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return fail('expected an ArrayBuffer or a typed array');
}

function parseHeader(bytes: Uint8Array): {
  entries: Entry[];
  metadata: Record<string, string>;
  dataStart: number;
} {
  if (bytes.byteLength < 8) {
    fail(`file is ${bytes.byteLength} bytes, too short for the 8-byte header length (truncated?)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = view.getUint32(0, true);
  const hi = view.getUint32(4, true);
  const headerLength = hi * 2 ** 32 + lo;
  if (headerLength > MAX_HEADER_BYTES)
    fail(`header length ${headerLength} is implausibly large (corrupt file?)`);
  if (8 + headerLength > bytes.byteLength) {
    fail(
      `header length ${headerLength} exceeds the ${bytes.byteLength - 8} bytes after it (truncated file?)`,
    );
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength));
  } catch {
    return fail('header is not valid UTF-8 (corrupt file?)');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    return fail(`header is not valid JSON (corrupt file?): ${(e as Error).message}`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header))
    fail('header is not a JSON object');
  const dataStart = 8 + headerLength;
  const dataLength = bytes.byteLength - dataStart;
  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
        fail('__metadata__ must be an object');
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`__metadata__.${k} must be a string`);
        metadata[k] = v;
      }
      continue;
    }
    const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (e === null || typeof e !== 'object') fail(`tensor '${name}': entry is not an object`);
    if (typeof e.dtype !== 'string' || !(e.dtype in BYTES)) {
      fail(
        `tensor '${name}': unsupported dtype ${JSON.stringify(e.dtype)} (supported: ${Object.keys(BYTES).join(', ')})`,
      );
    }
    const dtype = e.dtype as SafetensorsDtype;
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`tensor '${name}': shape ${JSON.stringify(e.shape)} is not a list of non-negative integers`);
    }
    const shape = e.shape as number[];
    const offsets = e.data_offsets;
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
      offsets[0] > offsets[1]
    ) {
      fail(
        `tensor '${name}': data_offsets ${JSON.stringify(offsets)} must be [begin, end] with 0 <= begin <= end`,
      );
    }
    const [begin, end] = offsets as [number, number];
    if (end > dataLength) {
      fail(
        `tensor '${name}': data_offsets [${begin}, ${end}] run past the ${dataLength} data bytes (truncated file?)`,
      );
    }
    const expected = shape.reduce((a, b) => a * b, 1) * BYTES[dtype];
    if (end - begin !== expected) {
      fail(`tensor '${name}': ${end - begin} data bytes, but ${dtype} [${shape}] needs ${expected}`);
    }
    entries.push({ name, dtype, shape, begin, end });
  }
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].begin < sorted[i - 1].end) {
      fail(`tensors '${sorted[i - 1].name}' and '${sorted[i].name}' overlap in the data (corrupt file?)`);
    }
  }
  return { entries, metadata, dataStart };
}

function decode(bytes: Uint8Array, dataStart: number, e: Entry): DecodedTensor['values'] {
  return decodeRawValues(e.dtype, bytes.subarray(dataStart + e.begin, dataStart + e.end), e.name);
}

/**
 * Decodes raw little-endian element bytes of `dtype` to host values, as the safetensors reader does
 * (floats → float32, integers → int32 with I64 values required to fit, BOOL → 0/1). Shared by readers of
 * other containers (e.g. PyTorch storages). Throws `safetensors: ...` naming `name` on an I64 overflow.
 * @param raw the bytes (any alignment; copied)
 * @example
 * decodeRawValues('BF16', Uint8Array.of(0x80, 0x3f)); // Float32Array [1]
 */
export function decodeRawValues(
  dtype: SafetensorsDtype,
  raw: Uint8Array,
  name = 'tensor',
): DecodedTensor['values'] {
  if (raw.byteLength % BYTES[dtype] !== 0) {
    fail(`tensor '${name}': ${raw.byteLength} bytes is not a whole number of ${dtype} elements`);
  }
  // Copy into a fresh, aligned buffer: the data may start at any byte offset. (Not `bytes.slice`:
  // on a Node Buffer that is a view, not a copy.)
  const buffer = new Uint8Array(raw).buffer;
  return decodeAligned(dtype, buffer, name);
}

function decodeAligned(dtype: SafetensorsDtype, raw: ArrayBuffer, name: string): DecodedTensor['values'] {
  switch (dtype) {
    case 'F32':
      return new Float32Array(raw);
    case 'F64':
      return Float32Array.from(new Float64Array(raw));
    case 'F16':
      return float16BitsToFloat32(new Uint16Array(raw));
    case 'BF16':
      return bfloat16BitsToFloat32(new Uint16Array(raw));
    case 'I32':
      return new Int32Array(raw);
    case 'I64': {
      const words = new Int32Array(raw);
      const out = new Int32Array(words.length / 2);
      for (let i = 0; i < out.length; i++) {
        const low = words[2 * i];
        if (words[2 * i + 1] !== low >> 31) {
          fail(`tensor '${name}': I64 value at index ${i} does not fit in int32 (tfjs has no int64)`);
        }
        out[i] = low;
      }
      return out;
    }
    case 'I16':
      return Int32Array.from(new Int16Array(raw));
    case 'I8':
      return Int32Array.from(new Int8Array(raw));
    case 'U8':
      return Int32Array.from(new Uint8Array(raw));
    case 'BOOL':
      return new Uint8Array(raw).map((v) => (v ? 1 : 0));
  }
}

/**
 * Parses and validates a safetensors file held in memory (Node or browser) and decodes every tensor
 * to host arrays: F32/F16/BF16/F64 as float32, I64/I32/I16/I8/U8 as int32 (I64 values must fit),
 * BOOL as 0/1. Throws a clear `safetensors: ...` error for truncated or corrupt files (header
 * length, JSON, dtype, shape, offsets in range, non-overlapping, byte counts matching dtype×shape).
 * @example
 * const { tensors, metadata } = readSafetensors(new Uint8Array(await (await fetch(url)).arrayBuffer()));
 */
export function readSafetensors(data: ArrayBuffer | ArrayBufferView): SafetensorsContents {
  const bytes = asBytes(data);
  const { entries, metadata, dataStart } = parseHeader(bytes);
  const tensors: Record<string, DecodedTensor> = {};
  for (const e of entries)
    tensors[e.name] = { dtype: e.dtype, shape: e.shape, values: decode(bytes, dataStart, e) };
  return { tensors, metadata };
}

/**
 * Like `readSafetensors`, but returns tfjs tensors (float32, int32 or bool), which the caller owns
 * and must dispose.
 * @returns tensors by name, in header order
 * @example
 * const tensors = loadSafetensors(bytes);
 * loadStateDict(model, tensors);
 * tf.dispose(Object.values(tensors));
 */
export function loadSafetensors(data: ArrayBuffer | ArrayBufferView): Record<string, tf.Tensor> {
  const { tensors } = readSafetensors(data);
  const out: Record<string, tf.Tensor> = {};
  for (const [name, t] of Object.entries(tensors)) {
    const dtype = t.dtype === 'BOOL' ? 'bool' : t.values instanceof Float32Array ? 'float32' : 'int32';
    out[name] = tf.tensor(t.values, t.shape, dtype);
  }
  return out;
}

/** Float encodings the writer can produce. */
export type SafetensorsFloatDtype = 'F32' | 'F16' | 'BF16';

/** Host-side tensor for `encodeSafetensors`: float values are written as `dtype`, Int32Array as I32. */
export interface HostTensor {
  shape: readonly number[];
  values: Float32Array | Int32Array | Uint8Array;
  /** For Uint8Array values: written as BOOL when true, U8 otherwise. */
  bool?: boolean;
}

/** Options of the writers. */
export interface SafetensorsWriteOptions {
  /** Encoding of float tensors. Default 'F32'. */
  dtype?: SafetensorsFloatDtype;
  /** Stored as `__metadata__` (string values only). */
  metadata?: Record<string, string>;
  /**
   * A float tensor with a finite value beyond the range of `dtype` (F16: |x| > 65504, which would
   * become ±Infinity): `'error'` (default) refuses, naming the tensor; `'keep-f32'` stores that
   * tensor as F32 (e.g. BatchNorm running variances in an F16 checkpoint); `'infinity'` writes
   * ±Infinity, as PyTorch's `.half()` does.
   */
  overflow?: 'error' | 'keep-f32' | 'infinity';
}

/** Largest finite value of each float encoding. */
const FLOAT_MAX: Record<SafetensorsFloatDtype, number> = {
  F32: (2 - 2 ** -23) * 2 ** 127,
  F16: 65504,
  BF16: (2 - 2 ** -7) * 2 ** 127,
};
/** Magnitudes that round to Infinity (half an ulp above the largest finite value; ties go to even, Infinity). */
const OVERFLOW_AT: Record<SafetensorsFloatDtype, number> = {
  F32: Number.POSITIVE_INFINITY,
  F16: 65520,
  BF16: (2 - 2 ** -8) * 2 ** 127,
};

/** The largest finite |x| of `values` that `dtype` cannot hold (it would become ±Infinity), else null. */
function overflows(values: Float32Array, dtype: SafetensorsFloatDtype): number | null {
  let worst: number | null = null;
  for (const v of values) {
    const a = Math.abs(v);
    if (a >= OVERFLOW_AT[dtype] && Number.isFinite(a) && (worst === null || a > worst)) worst = a;
  }
  return worst;
}

/**
 * Serialises host arrays to safetensors bytes (header padded with spaces to 8 bytes, tensors
 * contiguous in the given order).
 * @example
 * const bytes = encodeSafetensors({ w: { shape: [2], values: Float32Array.of(1, 2) } }, { dtype: 'F16' });
 */
export function encodeSafetensors(
  tensors: Record<string, HostTensor>,
  { dtype = 'F32', metadata, overflow = 'error' }: SafetensorsWriteOptions = {},
): Uint8Array {
  if (!['F32', 'F16', 'BF16'].includes(dtype)) fail(`cannot write float dtype '${dtype}' (F32, F16 or BF16)`);
  if (!['error', 'keep-f32', 'infinity'].includes(overflow))
    fail(`overflow must be 'error', 'keep-f32' or 'infinity', got '${String(overflow)}'`);
  const header: Record<string, unknown> = {};
  if (metadata) {
    for (const [k, v] of Object.entries(metadata))
      if (typeof v !== 'string') fail(`metadata '${k}' must be a string`);
    header.__metadata__ = metadata;
  }
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    if (name === '__metadata__') fail(`'__metadata__' cannot be a tensor name`);
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0) || n !== t.values.length) {
      fail(`tensor '${name}': shape [${t.shape}] does not match ${t.values.length} values`);
    }
    let stored: SafetensorsDtype;
    let chunk: Uint8Array;
    if (t.values instanceof Float32Array) {
      stored = dtype;
      const worst = overflow === 'infinity' ? null : overflows(t.values, dtype);
      if (worst !== null) {
        if (overflow === 'error')
          fail(
            `tensor '${name}': value ${worst} is beyond the ${dtype} range (±${FLOAT_MAX[dtype]}); write it as F32 (overflow: 'keep-f32')`,
          );
        stored = 'F32';
      }
      const encoded =
        stored === 'F32'
          ? t.values
          : stored === 'F16'
            ? float32ToFloat16Bits(t.values)
            : float32ToBfloat16Bits(t.values);
      chunk = new Uint8Array(encoded.buffer, encoded.byteOffset, encoded.byteLength);
    } else if (t.values instanceof Int32Array) {
      stored = 'I32';
      chunk = new Uint8Array(t.values.buffer, t.values.byteOffset, t.values.byteLength);
    } else {
      stored = t.bool ? 'BOOL' : 'U8';
      chunk = t.values;
    }
    header[name] = { dtype: stored, shape: [...t.shape], data_offsets: [offset, offset + chunk.byteLength] };
    chunks.push(chunk);
    offset += chunk.byteLength;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.byteLength / 8) * 8;
  if (padded !== json.byteLength) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + padded + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, padded % 2 ** 32, true);
  view.setUint32(4, Math.floor(padded / 2 ** 32), true);
  out.set(json, 8);
  let at = 8 + padded;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/**
 * Serialises tfjs tensors (float32 → `dtype`, int32 → I32, bool → BOOL) to safetensors bytes. Reads
 * tensor data asynchronously, so it works on GPU backends; the tensors are not disposed.
 * @example
 * const bytes = await saveSafetensors(torchStateDictOf(model), { dtype: 'F16' });
 */
export async function saveSafetensors(
  tensors: Record<string, tf.Tensor>,
  options: SafetensorsWriteOptions = {},
): Promise<Uint8Array> {
  const host: Record<string, HostTensor> = {};
  for (const [name, t] of Object.entries(tensors)) {
    if (t.dtype === 'float32') host[name] = { shape: t.shape, values: (await t.data()) as Float32Array };
    else if (t.dtype === 'int32') host[name] = { shape: t.shape, values: (await t.data()) as Int32Array };
    else if (t.dtype === 'bool')
      host[name] = { shape: t.shape, values: Uint8Array.from(await t.data()), bool: true };
    else fail(`tensor '${name}': cannot write dtype ${t.dtype}`);
  }
  return encodeSafetensors(host, options);
}
