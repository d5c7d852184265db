import { decode, encode } from 'fast-png';

/**
 * PNG encoding and decoding (fast-png, pure JS). 8-bit grayscale, RGB or palette images, written exactly
 * as given (no colour conversion), so label maps stored as PNG read back bit-exactly. Palette ("P mode")
 * label files keep their indices when read with `{ palette: 'indices' }`, as PIL's `np.array(Image.open(f))`
 * gives them to the reference loaders.
 */

/** An RGB palette: one `[r, g, b]` per index. */
export type Palette = readonly (readonly [number, number, number])[];

/**
 * Encodes an 8-bit image.
 *
 * @param data uint8 `[H,W]` (channels 1: grayscale, or palette indices when `options.palette` is given)
 *   or `[H,W,3]` (channels 3, RGB).
 * @param options.palette write an indexed (palette) PNG whose indices are `data` (channels must be 1).
 * @example
 * writeFileSync('edge/0001.png', encodePng(edge255, 480, 640, 1));
 * writeFileSync('semseg/VOC12/x.png', encodePng(classIds, 375, 500, 1, { palette: vocPalette() }));
 */
export function encodePng(
  data: Uint8Array,
  height: number,
  width: number,
  channels: 1 | 3,
  options: { palette?: Palette } = {},
): Uint8Array {
  if (data.length !== height * width * channels)
    throw new Error(`encodePng: data has ${data.length} values, expected ${height}·${width}·${channels}`);
  if (options.palette) {
    if (channels !== 1) throw new Error('encodePng: a palette image has one channel (the indices)');
    const n = options.palette.length;
    if (n < 1 || n > 256) throw new Error(`encodePng: a palette has 1..256 colours, got ${n}`);
    for (let i = 0; i < data.length; i++)
      if (data[i] >= n)
        throw new Error(`encodePng: index ${data[i]} at ${i} is outside the ${n}-colour palette`);
    return encode({
      width,
      height,
      data,
      depth: 8,
      channels: 1,
      palette: options.palette.map((c) => [...c]),
    });
  }
  return encode({ width, height, data, depth: 8, channels });
}

/** A decoded PNG: 8-bit samples, `channels` per pixel, row-major. */
export interface DecodedImage {
  width: number;
  height: number;
  /**
   * 1 (gray, or palette indices when read with `palette: 'indices'`), 2 (gray + alpha), 3 (RGB, also
   * palette images read with `palette: 'rgb'`), 4 (RGBA).
   */
  channels: number;
  data: Uint8Array;
  /** The palette of an indexed PNG (`[N,3]` RGB), whatever `palette` option was used. */
  palette?: Uint8Array;
}

/**
 * Decodes a PNG file to its own channel count (16-bit samples are scaled to 8 bits; 1/2/4-bit gray is
 * scaled to 0..255).
 *
 * @param name used in error messages (e.g. the file path): a truncated or corrupt file throws naming it.
 * @param options.palette what to return for an indexed PNG: its colours (`'rgb'`, default) or its
 *   indices (`'indices'`, one channel; what label files need).
 * @example
 * const { data, width, height } = decodePng(readFileSync('images/0001.png'), 'images/0001.png');
 * const ids = decodePng(readFileSync(f), f, { palette: 'indices' }).data; // class ids of a VOC label PNG
 */
export function decodePng(
  bytes: Uint8Array,
  name = 'PNG data',
  options: { palette?: 'rgb' | 'indices' } = {},
): DecodedImage {
  let png: ReturnType<typeof decode>;
  try {
    png = decode(bytes, { checkCrc: true });
  } catch (error) {
    throw new Error(`${name}: cannot decode PNG (${(error as Error).message})`);
  }
  const { width, height, depth } = png;
  const n = width * height;
  if (png.data.length < n * png.channels)
    throw new Error(`${name}: cannot decode PNG (truncated image data)`);
  if (png.palette) {
    const palette = new Uint8Array(png.palette.length * 3);
    png.palette.forEach((c, i) => {
      palette.set(c.slice(0, 3), 3 * i);
    });
    const indices = Uint8Array.from(png.data.subarray(0, n));
    if (options.palette === 'indices') return { width, height, channels: 1, data: indices, palette };
    const rgb = new Uint8Array(n * 3);
    for (let i = 0; i < n; i++) rgb.set(palette.subarray(3 * indices[i], 3 * indices[i] + 3), 3 * i);
    return { width, height, channels: 3, data: rgb, palette };
  }
  const count = n * png.channels;
  const data = new Uint8Array(count);
  if (depth === 16) for (let i = 0; i < count; i++) data[i] = Math.round(png.data[i] / 257);
  else if (depth < 8) {
    const scale = 255 / ((1 << depth) - 1);
    for (let i = 0; i < count; i++) data[i] = Math.round(png.data[i] * scale);
  } else data.set(png.data.subarray(0, count));
  return { width, height, channels: png.channels, data };
}
