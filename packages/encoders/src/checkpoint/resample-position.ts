import type { DecodedTensor } from '@cvm/nn';

// PyTorch's bicubic kernel (`upsample_bicubic2d`, A = −0.75), as a host-side 1-D weight table.
const A = -0.75;
const near = (x: number) => ((A + 2) * x - (A + 3)) * x * x + 1; // |x| ≤ 1
const far = (x: number) => ((A * x - 5 * A) * x + 8 * A) * x - 4 * A; // 1 < |x| < 2

/**
 * `F.interpolate(mode='bicubic', align_corners=False)` weights along one axis: for each output index, four
 * source indices (clamped to the border) and their weights.
 */
function bicubicTaps(from: number, to: number): { index: number[]; weight: number[] }[] {
  const scale = from / to;
  return Array.from({ length: to }, (_, o) => {
    const src = (o + 0.5) * scale - 0.5; // not clamped at 0 for cubic, as PyTorch
    const i0 = Math.floor(src);
    const t = src - i0;
    const weight = [far(t + 1), near(t), near(1 - t), far(2 - t)];
    const index = [i0 - 1, i0, i0 + 1, i0 + 2].map((i) => Math.min(Math.max(i, 0), from - 1));
    return { index, weight };
  });
}

/**
 * Resamples a grid `[fh·fw, C]` (row-major) to `[th·tw, C]` like PyTorch's bicubic `F.interpolate`
 * (align_corners=False, no antialias), computed in float64.
 */
export function bicubicResizeGrid(
  values: Float32Array,
  from: readonly [number, number],
  to: readonly [number, number],
  channels: number,
): Float32Array {
  const ty = bicubicTaps(from[0], to[0]);
  const tx = bicubicTaps(from[1], to[1]);
  const out = new Float32Array(to[0] * to[1] * channels);
  const acc = new Float64Array(channels);
  for (let y = 0; y < to[0]; y++) {
    for (let x = 0; x < to[1]; x++) {
      acc.fill(0);
      for (let a = 0; a < 4; a++) {
        for (let b = 0; b < 4; b++) {
          const w = ty[y].weight[a] * tx[x].weight[b];
          const base = (ty[y].index[a] * from[1] + tx[x].index[b]) * channels;
          for (let c = 0; c < channels; c++) acc[c] += w * values[base + c];
        }
      }
      out.set(acc, (y * to[1] + x) * channels);
    }
  }
  return out;
}

/**
 * Adapts a checkpoint's learned position embedding `[1, prefix + n, D]` to another patch grid, as timm's
 * `resample_abs_pos_embed` and SAK's stage 1 → 2 transfer do (bicubic, no antialias; the prefix entries
 * are kept). The source grid must be square (`n` a perfect square), as timm assumes.
 * @returns the resampled tensor, or null when the source grid is not square
 */
export function resamplePositionEmbedding(
  pos: DecodedTensor,
  prefix: number,
  to: readonly [number, number],
): DecodedTensor | null {
  const [, tokens, d] = pos.shape;
  const n = tokens - prefix;
  const side = Math.round(Math.sqrt(n));
  if (pos.shape.length !== 3 || n <= 0 || side * side !== n || !(pos.values instanceof Float32Array))
    return null;
  const body = bicubicResizeGrid(pos.values.subarray(prefix * d), [side, side], to, d);
  const values = new Float32Array((prefix + to[0] * to[1]) * d);
  values.set(pos.values.subarray(0, prefix * d));
  values.set(body, prefix * d);
  return { dtype: pos.dtype, shape: [1, prefix + to[0] * to[1], d], values };
}
