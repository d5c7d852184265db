import { colorizeTask, encodePng } from '@cvm/datasets/node';
import type { TaskName } from '@cvm/mtl-heads';
import type { PredictionSample } from './evaluate.js';

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
  if (gtDepth) for (const d of gtDepth) if (d !== 255 && d > depthMax) depthMax = d; // 255: ignore
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
    if (p) put(colorizeTask(t, p, pixels, { depthMax }), 0, k + 1);
    if (g) put(colorizeTask(t, g, pixels, { depthMax }), 1, k + 1);
  });
  return encodePng(panel, PH, PW, 3);
}
