import { PNG } from 'pngjs';

/**
 * PNG encoding and decoding (pngjs, pure JS). 8-bit grayscale or RGB, written exactly as given (no
 * colour conversion), so label maps stored as PNG read back bit-exactly.
 */

/**
 * Encodes an 8-bit image.
 *
 * @param data uint8 `[H,W]` (channels 1, grayscale) or `[H,W,3]` (channels 3, RGB).
 * @example
 * writeFileSync('edge/0001.png', encodePng(edge255, 480, 640, 1));
 */
export function encodePng(data: Uint8Array, height: number, width: number, channels: 1 | 3): Uint8Array {
  if (data.length !== height * width * channels)
    throw new Error(`encodePng: data has ${data.length} values, expected ${height}·${width}·${channels}`);
  const colorType = channels === 1 ? 0 : 2;
  const png = {
    width,
    height,
    data: Buffer.from(data.buffer, data.byteOffset, data.byteLength),
  } as unknown as PNG;
  return PNG.sync.write(png, { colorType, inputColorType: colorType, inputHasAlpha: false, bitDepth: 8 });
}

/** A decoded PNG: 8-bit samples, `channels` per pixel, row-major. */
export interface DecodedImage {
  width: number;
  height: number;
  /** 1 (gray), 2 (gray + alpha), 3 (RGB, also for palette images: the palette colours), 4 (RGBA). */
  channels: number;
  data: Uint8Array;
}

/**
 * Decodes a PNG file to its own channel count (16-bit samples are scaled to 8 bits).
 *
 * @param name used in error messages (e.g. the file path): a truncated or corrupt file throws naming it.
 * @example
 * const { data, width, height } = decodePng(readFileSync('images/0001.png'), 'images/0001.png');
 */
export function decodePng(bytes: Uint8Array, name = 'PNG data'): DecodedImage {
  let png: PNG;
  try {
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (error) {
    throw new Error(`${name}: cannot decode PNG (${(error as Error).message})`);
  }
  const { width, height } = png;
  const colorType = (png as unknown as { colorType?: number }).colorType ?? 6;
  const channels = colorType === 0 ? 1 : colorType === 4 ? 2 : colorType === 6 ? 4 : 3;
  const rgba = png.data;
  const n = width * height;
  const data = new Uint8Array(n * channels);
  for (let i = 0; i < n; i++) {
    if (channels === 1) data[i] = rgba[4 * i];
    else if (channels === 2) {
      data[2 * i] = rgba[4 * i];
      data[2 * i + 1] = rgba[4 * i + 3];
    } else for (let c = 0; c < channels; c++) data[channels * i + c] = rgba[4 * i + c];
  }
  return { width, height, channels, data };
}
