/**
 * 8-bit RGB ↔ float RGB in [0, 1], the one image encoding every layout uses (PNG and JPEG images).
 */

/** RGB float32 [0,1] → uint8 (rounded, clamped). */
export function encodeRgb(rgb: Float32Array): Uint8Array {
  const out = new Uint8Array(rgb.length);
  for (let i = 0; i < rgb.length; i++) out[i] = Math.round(Math.min(1, Math.max(0, rgb[i])) * 255);
  return out;
}

/** uint8 → RGB float32 v / 255. */
export function decodeRgb(stored: Uint8Array): Float32Array {
  const out = new Float32Array(stored.length);
  for (let i = 0; i < stored.length; i++) out[i] = stored[i] / 255;
  return out;
}
