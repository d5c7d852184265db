import jpeg from 'jpeg-js';

/**
 * JPEG encoding and decoding (jpeg-js, pure JS; baseline and progressive, 8-bit). Decoding returns RGB
 * (grayscale JPEGs are expanded to three equal channels, like PIL's `.convert('RGB')` in the reference
 * loaders). JPEG is lossy: what is read back differs from what was encoded by the compression error.
 */

/**
 * Encodes RGB `[H,W,3]` uint8 as a baseline JPEG.
 *
 * @param quality 1..100, default 95.
 * @example writeFileSync('JPEGImages/syn-train-000000.jpg', encodeJpeg(rgb8, 96, 128));
 */
export function encodeJpeg(rgb: Uint8Array, height: number, width: number, quality = 95): Uint8Array {
  if (rgb.length !== height * width * 3)
    throw new Error(`encodeJpeg: data has ${rgb.length} values, expected ${height}·${width}·3`);
  const rgba = new Uint8Array(height * width * 4);
  for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
    rgba[j] = rgb[i];
    rgba[j + 1] = rgb[i + 1];
    rgba[j + 2] = rgb[i + 2];
    rgba[j + 3] = 255;
  }
  const out = jpeg.encode({ width, height, data: rgba }, quality).data;
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/**
 * Decodes a JPEG to RGB uint8 `[H,W,3]`.
 *
 * @param name used in error messages: a truncated or corrupt file throws naming it.
 * @example const { data, height, width } = decodeJpeg(readFileSync(f), f);
 */
export function decodeJpeg(
  bytes: Uint8Array,
  name = 'JPEG data',
): { width: number; height: number; data: Uint8Array } {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8)
    throw new Error(`${name}: not a JPEG file (no SOI marker)`);
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    decoded = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, maxMemoryUsageInMB: 1024 });
  } catch (error) {
    throw new Error(`${name}: cannot decode JPEG (${(error as Error).message})`);
  }
  const { width, height, data } = decoded;
  if (data.length !== width * height * 3)
    throw new Error(`${name}: cannot decode JPEG (unexpected ${data.length} samples for ${height}×${width})`);
  return { width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}
