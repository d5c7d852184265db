/**
 * Colour maps for viewing task maps (predictions and labels) as 8-bit RGB: a class palette for
 * semseg and human parts, a depth colour map, normals as RGB, boundaries and saliency as grey.
 */
import type { Palette } from './formats/png.js';
import type { TaskName } from './schema.js';

const IGNORE = 255;

/**
 * The PASCAL VOC colour map (the palette of VOC / PASCAL-MT label PNGs): index i's RGB takes bits
 * 0, 1, 2 of i into the top bits of R, G, B, then bits 3, 4, 5 into the next ones, and so on.
 *
 * @example vocPalette()[15] // [192, 128, 128] (person)
 */
export function vocPalette(): Palette {
  return Array.from({ length: 256 }, (_, index) => {
    const rgb: [number, number, number] = [0, 0, 0];
    for (let shift = 7, i = index; i > 0; shift--, i >>= 3)
      for (let c = 0; c < 3; c++) rgb[c] |= ((i >> c) & 1) << shift;
    return rgb;
  });
}

const PALETTE = vocPalette();

/**
 * The depth colour map ("Turbo", Mikhailov 2019, through its published polynomial fit, within a few
 * levels of Turbo's table): `t` in [0, 1] (clamped) from dark blue (0) through green and yellow to
 * dark red (1), as 8-bit RGB.
 * @example depthColor(0) // [35, 23, 27]
 */
export function depthColor(t: number): [number, number, number] {
  const x = Math.min(Math.max(t, 0), 1);
  const x2 = x * x;
  const x3 = x2 * x;
  const x4 = x3 * x;
  const x5 = x4 * x;
  const r =
    0.13572138 + 4.6153926 * x - 42.66032258 * x2 + 132.13108234 * x3 - 152.94239396 * x4 + 59.28637943 * x5;
  const g =
    0.09140261 + 2.19418839 * x + 4.84296658 * x2 - 14.18503333 * x3 + 4.27729857 * x4 + 2.82956604 * x5;
  const b =
    0.1066733 + 12.64194608 * x - 60.58204836 * x2 + 110.36276771 * x3 - 89.90310912 * x4 + 27.34824973 * x5;
  const to8 = (v: number) => Math.round(255 * Math.min(Math.max(v, 0), 1));
  return [to8(r), to8(g), to8(b)];
}

export interface ColorizeOptions {
  /** Depth mapped to the far end of the colour map (metres); default 10. */
  depthMax?: number;
}

/**
 * A task map (prediction or label, as `@cvm/mtl-heads`' `predictTasks` and the sample schema give
 * them) as `[H,W,3]` 8-bit RGB for viewing:
 * - `semseg`, `human_parts`: class id `k` in VOC palette colour `k + 1` (so class 0 is not black);
 *   255 (ignore) black;
 * - `depth`: `depthColor(1 − d / depthMax)`, near red, far blue; 0 (invalid) black;
 * - `normals` (`[H,W,3]`): `(n + 1) / 2` as RGB; a non-unit vector (invalid, (0,0,0) is shown grey) black;
 * - `edge`, `sal`: probability (prediction) or 0/1 (label) as grey; 255 (ignore) mid-grey.
 *
 * @param pixels `H·W`
 * @example const rgb = colorizeTask('depth', depthMetres, 64 * 96, { depthMax: 8 });
 */
export function colorizeTask(
  task: TaskName,
  values: ArrayLike<number>,
  pixels: number,
  options: ColorizeOptions = {},
): Uint8Array {
  const depthMax = options.depthMax ?? 10;
  if (!(depthMax > 0)) throw new Error(`colorizeTask: depthMax must be positive, got ${depthMax}`);
  const need = task === 'normals' ? 3 * pixels : pixels;
  if (values.length < need)
    throw new Error(`colorizeTask: ${task} needs ${need} values for ${pixels} pixels, got ${values.length}`);
  const out = new Uint8Array(pixels * 3);
  for (let i = 0; i < pixels; i++) {
    let rgb: readonly number[];
    switch (task) {
      case 'semseg':
      case 'human_parts': {
        const id = values[i];
        rgb = id === IGNORE ? [0, 0, 0] : PALETTE[(id + 1) % 256];
        break;
      }
      case 'depth': {
        const d = values[i];
        rgb = d > 0 && d !== IGNORE ? depthColor(1 - d / depthMax) : [0, 0, 0];
        break;
      }
      case 'normals': {
        const n = [values[3 * i], values[3 * i + 1], values[3 * i + 2]];
        rgb = n.some((x) => Math.abs(x) > 1.001) ? [0, 0, 0] : n.map((x) => Math.round(((x + 1) / 2) * 255));
        break;
      }
      default: {
        const x = values[i];
        const v = x === IGNORE ? 128 : Math.round(255 * Math.min(Math.max(x, 0), 1));
        rgb = [v, v, v];
      }
    }
    out[3 * i] = rgb[0];
    out[3 * i + 1] = rgb[1];
    out[3 * i + 2] = rgb[2];
  }
  return out;
}
