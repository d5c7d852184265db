import { encodePng, vocPalette } from '@cvm/datasets/node';
import type { TaskName } from '@cvm/mtl-heads';
import type { PredictionSample } from './evaluate.js';

type Rgb = Uint8Array;
const PALETTE = vocPalette();
const IGNORE = 255;

/** A task map (prediction or GT) as `[H,W,3]` 8-bit RGB for viewing. */
export function colorize(
  task: TaskName,
  a: Float32Array | Int32Array,
  pixels: number,
  depthMax: number,
): Rgb {
  const out = new Uint8Array(pixels * 3);
  for (let i = 0; i < pixels; i++) {
    let rgb: readonly [number, number, number];
    switch (task) {
      case 'semseg':
      case 'human_parts': {
        const id = a[i];
        rgb = id === IGNORE ? [0, 0, 0] : (PALETTE[(id + 1) % 256] as [number, number, number]);
        break;
      }
      case 'depth': {
        const d = a[i];
        const v = d > 0 && d !== IGNORE ? Math.round(255 * (1 - Math.min(d / depthMax, 1))) : 0;
        rgb = [v, v, v];
        break;
      }
      case 'normals': {
        const n = [a[3 * i], a[3 * i + 1], a[3 * i + 2]];
        rgb = n.some((x) => Math.abs(x) > 1.001)
          ? [0, 0, 0]
          : (n.map((x) => Math.round(((x + 1) / 2) * 255)) as [number, number, number]);
        break;
      }
      default: {
        // edge / sal: probability (prediction) or 0/1 (GT), 255 = ignore shown mid-grey.
        const x = a[i];
        const v = x === IGNORE ? 128 : Math.round(255 * Math.min(Math.max(x, 0), 1));
        rgb = [v, v, v];
      }
    }
    out.set(rgb, 3 * i);
  }
  return out;
}

/**
 * One sample's panel: top row RGB then each task's prediction, bottom row (when there is ground truth)
 * RGB then each task's GT, tiles separated by a 2-pixel white gutter. Returns PNG bytes.
 */
export function predictionPanel(sample: PredictionSample, tasks: readonly TaskName[]): Uint8Array {
  const { height: H, width: W } = sample;
  const pixels = H * W;
  const gutter = 2;
  const cols = 1 + tasks.length;
  const PW = cols * W + (cols - 1) * gutter;
  const withGt = tasks.some((t) => sample.gt[t]);
  const PH = withGt ? 2 * H + gutter : H;
  const panel = new Uint8Array(PW * PH * 3).fill(255);
  const rgb = new Uint8Array(pixels * 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = Math.round(255 * Math.min(Math.max(sample.rgb[i], 0), 1));
  const gtDepth = sample.gt.depth;
  let depthMax = 1;
  if (gtDepth) for (const d of gtDepth) if (d !== IGNORE && d > depthMax) depthMax = d;
  const put = (tile: Uint8Array, row: number, col: number) => {
    for (let y = 0; y < H; y++) {
      const dst = ((row * (H + gutter) + y) * PW + col * (W + gutter)) * 3;
      panel.set(tile.subarray(y * W * 3, (y + 1) * W * 3), dst);
    }
  };
  put(rgb, 0, 0);
  if (withGt) put(rgb, 1, 0);
  tasks.forEach((t, k) => {
    const p = sample.pred[t];
    const g = sample.gt[t];
    if (p) put(colorize(t, p, pixels, depthMax), 0, k + 1);
    if (g) put(colorize(t, g, pixels, depthMax), 1, k + 1);
  });
  return encodePng(panel, PH, PW, 3);
}
