import '@tensorflow/tfjs-backend-cpu';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectNoLeaks } from '@cvm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeRawValues,
  bfloat16BitsToFloat32,
  encodeSafetensors,
  float16BitsToFloat32,
  float32ToBfloat16Bits,
  float32ToFloat16Bits,
  loadSafetensors,
  readSafetensors,
  saveSafetensors,
} from '../src/index.js';
import {
  loadSafetensorsFile,
  readFileBytes,
  readSafetensorsFile,
  saveSafetensorsFile,
  writeFileAtomic,
} from '../src/node.js';
import { Fixture, fixtureBytes } from './helpers.js';

let dir: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  tf.env().set('IS_TEST', true);
  dir = mkdtempSync(join(tmpdir(), 'cvm-nn-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Exact equality treating NaN == NaN. */
function expectSame(actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (Number.isNaN(expected[i])) expect(Number.isNaN(actual[i]), `element ${i}`).toBe(true);
    else expect(Object.is(actual[i], expected[i]), `element ${i}: ${actual[i]} vs ${expected[i]}`).toBe(true);
  }
}

/** A file from a header object and raw data bytes. */
function craft(header: unknown, data: Uint8Array, headerText = JSON.stringify(header)): Uint8Array {
  const json = new TextEncoder().encode(headerText);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe('dtype decoding against PyTorch', () => {
  it('F16 and BF16 (normals, subnormals, ±0, ±inf, NaN, overflow) read as torch .float()', () => {
    const fx = new Fixture('special.safetensors');
    expect(fx.contents.tensors.f16.dtype).toBe('F16');
    expect(fx.contents.tensors.bf16.dtype).toBe('BF16');
    expectSame(fx.values('f16'), fx.values('f16_as_f32'));
    expectSame(fx.values('bf16'), fx.values('bf16_as_f32'));
    // Sanity on the references themselves: -0 kept, the F16 subnormal 2^-24 present.
    expect(Object.is(fx.values('f16')[1], -0)).toBe(true);
    expect(fx.values('f16')[6]).toBe(2 ** -24);
    expect(fx.contents.metadata).toEqual({ purpose: 'dtype decoding' });
  });

  it('I64 and I32 read as int32; I64 out of int32 range is a clear error', () => {
    const fx = new Fixture('special.safetensors');
    expect(Array.from(fx.values('i64'))).toEqual([0, -1, 2147483647, -2147483648, 5, 7]);
    expect(fx.shape('i64')).toEqual([2, 3]);
    expect(Array.from(fx.values('i32'))).toEqual([3, -4]);
    const big = new Uint8Array(8);
    new DataView(big.buffer).setBigInt64(0, 2n ** 31n, true);
    const file = craft({ x: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, big);
    expect(() => readSafetensors(file)).toThrow(/does not fit in int32/);
  });

  it('F16/BF16 encoders round to nearest even exactly like torch (4000 values over 15 decades)', () => {
    const fx = new Fixture('rounding.safetensors');
    const values = fx.values('values') as Float32Array;
    const f16 = Uint16Array.from(fx.values('f16_bits'), (v) => v & 0xffff);
    const bf16 = Uint16Array.from(fx.values('bf16_bits'), (v) => v & 0xffff);
    expect(Array.from(float32ToFloat16Bits(values))).toEqual(Array.from(f16));
    expect(Array.from(float32ToBfloat16Bits(values))).toEqual(Array.from(bf16));
    const special = new Fixture('special.safetensors');
    const sv = special.values('f32') as Float32Array;
    expect(Array.from(float32ToFloat16Bits(sv))).toEqual(
      Array.from(special.values('f16_from_f32_bits'), (v) => v & 0xffff),
    );
    // NaN payloads are implementation-defined (torch 1.13 writes 0xffff, we write the quiet 0x7fc0).
    const nanTo = (v: number) => ((v & 0x7f80) === 0x7f80 && v & 0x7f ? 'NaN' : v);
    expect(Array.from(float32ToBfloat16Bits(sv), nanTo)).toEqual(
      Array.from(special.values('bf16_from_f32_bits'), (v) => nanTo(v & 0xffff)),
    );
  });

  it('every F16 bit pattern decodes consistently and re-encodes to itself', () => {
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const f = float16BitsToFloat32(all);
    const back = float32ToFloat16Bits(f);
    for (let h = 0; h < 65536; h++) {
      if (Number.isNaN(f[h])) {
        expect((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0).toBe(true);
      } else if (back[h] !== h) {
        expect.fail(`0x${h.toString(16)} -> ${f[h]} -> 0x${back[h].toString(16)}`);
      }
    }
    expect(Array.from(bfloat16BitsToFloat32(Uint16Array.of(0x3f80, 0xc000, 0x0001)))).toEqual([
      1,
      -2,
      2 ** -133,
    ]);
  });
});

describe('round trips', () => {
  it('tensors → bytes → tensors (F32 exact, F16/BF16 equal to their rounding with overflow infinity, int32, bool, metadata)', async () => {
    const values = new Fixture('rounding.safetensors').values('values') as Float32Array;
    const w = tf.tensor(values.slice(0, 24), [2, 3, 4]);
    const idx = tf.tensor([1, -2, 3], [3], 'int32');
    const flag = tf.tensor([true, false], [2], 'bool');
    for (const dtype of ['F32', 'F16', 'BF16'] as const) {
      const bytes = await saveSafetensors(
        { w, idx, flag, empty: tf.zeros([0, 3]) },
        { dtype, metadata: { a: 'b' }, overflow: 'infinity' },
      );
      const { tensors, metadata } = readSafetensors(bytes);
      expect(metadata).toEqual({ a: 'b' });
      expect(Object.keys(tensors)).toEqual(['w', 'idx', 'flag', 'empty']);
      expect(tensors.w).toMatchObject({ dtype, shape: [2, 3, 4] });
      const expected =
        dtype === 'F32'
          ? values.slice(0, 24)
          : dtype === 'F16'
            ? float16BitsToFloat32(float32ToFloat16Bits(values.slice(0, 24)))
            : bfloat16BitsToFloat32(float32ToBfloat16Bits(values.slice(0, 24)));
      expectSame(tensors.w.values, expected);
      expect(tensors.idx).toMatchObject({ dtype: 'I32', shape: [3] });
      expect(Array.from(tensors.idx.values)).toEqual([1, -2, 3]);
      expect(tensors.flag.dtype).toBe('BOOL');
      expect(Array.from(tensors.flag.values)).toEqual([1, 0]);
      expect(tensors.empty.shape).toEqual([0, 3]);
      // Header padded to 8 bytes, data contiguous after it.
      const n = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
      expect(n % 8).toBe(0);
      const loaded = await expectNoLeaks(() => loadSafetensors(bytes));
      expect(loaded.idx.dtype).toBe('int32');
      expect(loaded.flag.dtype).toBe('bool');
      tf.dispose(Object.values(loaded));
    }
    tf.dispose([w, idx, flag]);
  });

  it('F16 of a value beyond ±65504: an error naming the tensor, or F32 for that tensor with keep-f32', () => {
    const tensors = {
      small: { shape: [2], values: Float32Array.of(1.5, -65504) },
      big: { shape: [3], values: Float32Array.of(0.25, 7.7e7, -1) },
    };
    expect(() => encodeSafetensors(tensors, { dtype: 'F16' })).toThrow(
      /tensor 'big': value 77000000 is beyond the F16 range/,
    );
    // 65519 still rounds to 65504; 65520 would round to Infinity.
    expect(() =>
      encodeSafetensors({ x: { shape: [1], values: Float32Array.of(65519) } }, { dtype: 'F16' }),
    ).not.toThrow();
    expect(() =>
      encodeSafetensors({ x: { shape: [1], values: Float32Array.of(-65520) } }, { dtype: 'F16' }),
    ).toThrow(/beyond/);
    const { tensors: read } = readSafetensors(
      encodeSafetensors(tensors, { dtype: 'F16', overflow: 'keep-f32' }),
    );
    expect(read.small.dtype).toBe('F16');
    expect(Array.from(read.small.values)).toEqual([1.5, -65504]);
    expect(read.big.dtype).toBe('F32');
    const inf = readSafetensors(encodeSafetensors(tensors, { dtype: 'F16', overflow: 'infinity' })).tensors;
    expect(Array.from(inf.big.values)).toEqual([0.25, Number.POSITIVE_INFINITY, -1]);
    expect(Array.from(read.big.values)).toEqual(Array.from(tensors.big.values));
  });

  it('reads a file that starts at an odd byte offset of a larger buffer', () => {
    const bytes = encodeSafetensors({ x: { shape: [3], values: Float32Array.of(1, 2, 3) } });
    const big = new Uint8Array(bytes.length + 3);
    big.set(bytes, 1);
    const { tensors } = readSafetensors(big.subarray(1, 1 + bytes.length));
    expect(Array.from(tensors.x.values)).toEqual([1, 2, 3]);
  });

  it('Node files: save atomically (no temp file left), load, overwrite, errors name the file', async () => {
    const path = join(dir, 'w.safetensors');
    const a = tf.tensor([
      [1, 2],
      [3, 4],
    ]);
    await saveSafetensorsFile(path, { a }, { dtype: 'F16' });
    await saveSafetensorsFile(path, { a, b: tf.scalar(5) });
    expect(readdirSync(dir)).toEqual(['w.safetensors']);
    const loaded = await loadSafetensorsFile(path);
    expect(Array.from(await loaded.a.data())).toEqual([1, 2, 3, 4]);
    expect(loaded.b.shape).toEqual([]);
    tf.dispose([a, ...Object.values(loaded)]);
    // A failing save (a tensor dtype it cannot write) leaves the previous file untouched.
    const before = readFileSync(path);
    await expect(saveSafetensorsFile(path, { s: tf.tensor(['x']) })).rejects.toThrow(
      /cannot write dtype string/,
    );
    expect(readFileSync(path).equals(before)).toBe(true);
    await expect(saveSafetensorsFile(join(dir, 'missing', 'x.safetensors'), {})).rejects.toThrow();
    expect(readdirSync(dir)).toEqual(['w.safetensors']);
    const bad = join(dir, 'bad.safetensors');
    writeFileSync(bad, before.subarray(0, before.length - 3));
    await expect(readSafetensorsFile(bad)).rejects.toThrow(/bad\.safetensors: safetensors: .*truncated/);
    rmSync(bad);
  });
});

describe('files larger than one read or write call', () => {
  // Node's file calls take at most 2 GiB − 1 bytes (ViT-L's AdamW moments are 2.88 GB): both helpers
  // loop over chunks; here 1,000-byte chunks over 10,007 bytes (an uneven last chunk) stand in for it.
  it('writes and reads back every byte in chunks, leaving no temporary file', async () => {
    const path = join(dir, 'chunked.bin');
    const bytes = Uint8Array.from({ length: 10_007 }, (_, i) => (i * 31 + 7) & 255);
    await writeFileAtomic(path, bytes, 1000);
    expect(readFileSync(path).equals(bytes)).toBe(true);
    expect(await readFileBytes(path, 1000)).toEqual(bytes);
    expect(await readFileBytes(path)).toEqual(bytes);
    expect(readdirSync(dir).filter((f) => f.startsWith('.chunked'))).toEqual([]);
    rmSync(path);
  });
});

describe('corrupt and truncated files fail clearly', () => {
  const good = fixtureBytes('tiny_f32.safetensors');
  const f32 = (n: number) => new Uint8Array(4 * n);
  const cases: [string, Uint8Array, RegExp][] = [
    ['empty', new Uint8Array(0), /too short for the 8-byte header length/],
    ['truncated header', good.subarray(0, 40), /exceeds the 32 bytes after it \(truncated/],
    ['truncated data', good.subarray(0, good.length - 1), /run past the .* data bytes \(truncated/],
    ['huge header length', Uint8Array.of(0, 0, 0, 0, 1, 0, 0, 0), /implausibly large/],
    ['not JSON', craft(null, f32(1), '{"x": {"dtype": "F32",'), /not valid JSON/],
    ['not an object', craft([1, 2], f32(1)), /not a JSON object/],
    [
      'unknown dtype',
      craft({ x: { dtype: 'F8_E4M3', shape: [1], data_offsets: [0, 1] } }, f32(1)),
      /unsupported dtype "F8_E4M3"/,
    ],
    ['bad shape', craft({ x: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, f32(1)), /shape \[-1\]/],
    ['bad offsets', craft({ x: { dtype: 'F32', shape: [1], data_offsets: [4, 0] } }, f32(1)), /data_offsets/],
    [
      'size mismatch',
      craft({ x: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }, f32(2)),
      /4 data bytes, but F32 \[2\] needs 8/,
    ],
    [
      'overlap',
      craft(
        {
          x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
          y: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
        },
        f32(3),
      ),
      /'x' and 'y' overlap/,
    ],
    ['metadata not strings', craft({ __metadata__: { a: 1 } }, f32(0)), /__metadata__\.a must be a string/],
  ];
  for (const [name, bytes, pattern] of cases) {
    it(name, () => {
      expect(() => readSafetensors(bytes)).toThrow(pattern);
      expect(() => readSafetensors(bytes)).toThrow(/^safetensors: /);
    });
  }
});

describe('decodeRawValues', () => {
  it('decodes unaligned raw bytes of every float width and refuses partial elements', () => {
    const bytes = Uint8Array.of(0xff, 0x80, 0x3f, 0x00, 0x3c); // one junk byte, then BF16 1.0, F16 1.0
    expect(Array.from(decodeRawValues('BF16', bytes.subarray(1, 3)))).toEqual([1]);
    expect(Array.from(decodeRawValues('F16', bytes.subarray(3, 5)))).toEqual([1]);
    expect(() => decodeRawValues('F32', bytes.subarray(0, 3), 'w')).toThrow(
      /'w': 3 bytes is not a whole number of F32/,
    );
    const big = new Uint8Array(8);
    big[4] = 1; // 2^32 as I64
    expect(() => decodeRawValues('I64', big, 'n')).toThrow(/'n': I64 value at index 0 does not fit in int32/);
  });
});
