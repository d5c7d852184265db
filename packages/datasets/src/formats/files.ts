import { existsSync, readFileSync } from 'node:fs';
import { type DecodedImage, decodePng } from './png.js';

/** Throws `<prefix>: <what> <path> does not exist` when `path` is missing. */
export function requireFile(path: string, what: string, prefix: string): void {
  if (!existsSync(path)) throw new Error(`${prefix}: ${what} ${path} does not exist`);
}

/**
 * Reads a PNG file with `channels` channels (RGBA is accepted for RGB and dropped to RGB; one-channel
 * label maps keep palette indices, as PIL gives them to the reference loaders), checking its size when
 * `height`/`width` are given. Errors name the file.
 */
export function readPngFile(path: string, channels: 1 | 3, height?: number, width?: number): DecodedImage {
  requireFile(path, 'file', 'dataset');
  const image = decodePng(readFileSync(path), path, { palette: channels === 1 ? 'indices' : 'rgb' });
  if (image.channels !== channels && !(channels === 3 && image.channels === 4))
    throw new Error(
      `${path}: expected ${channels === 1 ? 'a grayscale' : 'an RGB'} PNG, found ${image.channels} channels`,
    );
  if (height !== undefined && (image.height !== height || image.width !== width))
    throw new Error(
      `${path}: size ${image.height}×${image.width} does not match the image's ${height}×${width}`,
    );
  if (image.channels === 4) {
    const rgb = new Uint8Array(image.width * image.height * 3);
    for (let i = 0; i < image.width * image.height; i++)
      rgb.set(image.data.subarray(4 * i, 4 * i + 3), 3 * i);
    return { ...image, channels: 3, data: rgb };
  }
  return image;
}
