// IEEE binary16 and bfloat16 <-> float32, exact, with round-to-nearest-even on the way down.

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

let halfTable: Float32Array | null = null;

/** float32 value of one binary16 bit pattern. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24; // zero and subnormals (exact in float32)
  if (e === 31) return m === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}

/**
 * Decodes IEEE binary16 bit patterns to float32 (subnormals, ±0, ±inf and NaN included).
 * @example
 * float16BitsToFloat32(Uint16Array.of(0x3c00, 0x0001)); // [1, 5.96e-8]
 */
export function float16BitsToFloat32(bits: Uint16Array): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) halfTable[h] = halfToFloat(h);
  }
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = halfTable[bits[i]];
  return out;
}

/**
 * Encodes float32 values as IEEE binary16 bits, rounding to nearest even; overflow gives ±inf,
 * tiny values become subnormals or ±0, NaN stays NaN.
 * @example
 * float32ToFloat16Bits(Float32Array.of(1, 65520)); // [0x3c00, 0x7c00]
 */
export function float32ToFloat16Bits(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    f32[0] = values[i];
    const bits = u32[0];
    const sign = (bits >>> 16) & 0x8000;
    const exp = (bits >>> 23) & 0xff;
    const mant = bits & 0x7fffff;
    if (exp === 255) {
      out[i] = sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0);
      continue;
    }
    const e = exp - 112; // rebias 127 -> 15
    if (e >= 31) {
      out[i] = sign | 0x7c00;
    } else if (e <= 0) {
      if (e < -10) {
        out[i] = sign; // below half the smallest subnormal
        continue;
      }
      const m = mant | 0x800000;
      const shift = 14 - e;
      let h = m >>> shift;
      const rem = m & ((1 << shift) - 1);
      const half = 1 << (shift - 1);
      if (rem > half || (rem === half && h & 1)) h++;
      out[i] = sign | h; // a carry into bit 10 is the smallest normal, correctly
    } else {
      let h = (e << 10) | (mant >>> 13);
      const rem = mant & 0x1fff;
      if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++; // a carry may reach inf, correctly
      out[i] = sign | h;
    }
  }
  return out;
}

/**
 * Decodes bfloat16 bit patterns (the top 16 bits of a float32) to float32.
 * @example
 * bfloat16BitsToFloat32(Uint16Array.of(0x3f80)); // [1]
 */
export function bfloat16BitsToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  const view = new Uint32Array(out.buffer);
  for (let i = 0; i < bits.length; i++) view[i] = bits[i] << 16;
  return out;
}

/**
 * Encodes float32 values as bfloat16 bits, rounding to nearest even (NaN stays a quiet NaN).
 * @example
 * float32ToBfloat16Bits(Float32Array.of(1)); // [0x3f80]
 */
export function float32ToBfloat16Bits(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    f32[0] = values[i];
    const bits = u32[0];
    if ((bits & 0x7f800000) === 0x7f800000 && bits & 0x7fffff) {
      out[i] = (bits >>> 16) | 0x40;
    } else {
      out[i] = ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
    }
  }
  return out;
}
