/**
 * Morphological thinning to 1-pixel-wide curves, the algorithm of MATLAB's `bwmorph(bw, 'thin', Inf)` and of
 * `skimage.morphology.thin`: Guo & Hall's two-subiteration algorithm (CACM 1989) as given by Lam, Lee & Suen
 * (1992), p. 879, two parallel sub-iterations repeated until nothing changes. The one thinning of cvm:
 * `@cvm/datasets` uses it for PASCAL-MT edges (checked there against scikit-image).
 *
 * Neighbours of p, counter-clockwise from east (y grows downwards): x1 = E, x2 = NE, x3 = N, x4 = NW,
 * x5 = W, x6 = SW, x7 = S, x8 = SE. A pixel is deleted in sub-iteration 1 when
 *   G1: X_H(p) = 1, X_H = Σ_{i=1..4} [x_{2i-1} = 0 and (x_{2i} = 1 or x_{2i+1} = 1)]  (x9 = x1)
 *   G2: 2 ≤ min(n1, n2) ≤ 3, n1 = Σ_k (x_{2k-1} ∨ x_{2k}), n2 = Σ_k (x_{2k} ∨ x_{2k+1})
 *   G3: (x2 ∨ x3 ∨ ¬x8) ∧ x1 = 0
 * and in sub-iteration 2 with G3': (x6 ∨ x7 ∨ ¬x4) ∧ x5 = 0. Outside the image counts as 0.
 * These tables agree entry for entry with MATLAB's `lutthin1` / `lutthin2` (checked against a published
 * copy of those 512-entry tables while writing this file).
 *
 * The implementation is work-list based: a pixel is re-examined for a sub-iteration only when one of its
 * neighbours changed since it was last examined for that sub-iteration, which gives the same result as
 * sweeping the whole image each time (deletions inside a sub-iteration are decided on its starting state)
 * at a cost proportional to the pixels removed.
 */

/** Deletability per sub-iteration, indexed by the 8-bit neighbour code Σ x_k·2^(k−1). */
const LUT: [Uint8Array, Uint8Array] = [new Uint8Array(256), new Uint8Array(256)];
for (let code = 0; code < 256; code++) {
  const x = (k: number) => (code >> ((k - 1) % 8)) & 1; // x(9) = x(1)
  let xh = 0;
  let n1 = 0;
  let n2 = 0;
  for (let i = 1; i <= 4; i++) {
    if (x(2 * i - 1) === 0 && (x(2 * i) === 1 || x(2 * i + 1) === 1)) xh++;
    n1 += x(2 * i - 1) | x(2 * i);
    n2 += x(2 * i) | x(2 * i + 1);
  }
  const m = Math.min(n1, n2);
  const g12 = xh === 1 && m >= 2 && m <= 3;
  const g3 = ((x(2) | x(3) | (1 - x(8))) & x(1)) === 0;
  const g3b = ((x(6) | x(7) | (1 - x(4))) & x(5)) === 0;
  LUT[0][code] = g12 && g3 ? 1 : 0;
  LUT[1][code] = g12 && g3b ? 1 : 0;
}

/** Scratch buffers reused across calls of the same padded size. */
interface Scratch {
  size: number;
  flags: Uint8Array;
}
let scratch: Scratch = { size: 0, flags: new Uint8Array(0) };

/**
 * Thins a binary image in place. `img` is a padded `(h+2)×(w+2)` Uint8Array (0/1) whose one-pixel frame
 * is 0; `stride = w + 2`. `foreground`, when given, lists the padded indices of all set pixels (saves a scan
 * of the whole image). Returns the number of pixels removed.
 */
export function thinPadded(img: Uint8Array, h: number, w: number, foreground?: ArrayLike<number>): number {
  const stride = w + 2;
  const size = (h + 2) * stride;
  if (scratch.flags.length < size) scratch = { size, flags: new Uint8Array(size) };
  const flags = scratch.flags;
  // Flags are cleared again before returning (every flagged pixel is popped from its queue).
  // Offsets of x1..x8.
  const nb = [1, 1 - stride, -stride, -stride - 1, -1, stride - 1, stride, stride + 1];
  const code = (p: number) =>
    img[p + 1] |
    (img[p + 1 - stride] << 1) |
    (img[p - stride] << 2) |
    (img[p - stride - 1] << 3) |
    (img[p - 1] << 4) |
    (img[p + stride - 1] << 5) |
    (img[p + stride] << 6) |
    (img[p + stride + 1] << 7);
  let queues: [number[], number[]] = [[], []];
  // Pixels with all 8 neighbours set have X_H = 0 and cannot be deleted until a neighbour goes.
  const seed = (p: number) => {
    if (img[p] && code(p) !== 255) {
      flags[p] = 3;
      queues[0].push(p);
      queues[1].push(p);
    }
  };
  if (foreground) {
    for (let i = 0; i < foreground.length; i++) seed(foreground[i]);
  } else {
    for (let y = 1; y <= h; y++) for (let p = y * stride + 1, end = y * stride + w; p <= end; p++) seed(p);
  }
  let removed = 0;
  const del: number[] = [];
  for (;;) {
    let changed = false;
    for (let s = 0; s < 2; s++) {
      const lut = LUT[s];
      const bit = 1 << s;
      const list = queues[s];
      queues = s === 0 ? [[], queues[1]] : [queues[0], []];
      del.length = 0;
      for (let i = 0; i < list.length; i++) {
        const p = list[i];
        flags[p] &= ~bit;
        if (img[p] && lut[code(p)]) del.push(p);
      }
      for (let i = 0; i < del.length; i++) img[del[i]] = 0;
      for (let i = 0; i < del.length; i++) {
        const p = del[i];
        for (let k = 0; k < 8; k++) {
          const q = p + nb[k];
          if (!img[q]) continue;
          if (!(flags[q] & 1)) {
            flags[q] |= 1;
            queues[0].push(q);
          }
          if (!(flags[q] & 2)) {
            flags[q] |= 2;
            queues[1].push(q);
          }
        }
      }
      if (del.length > 0) changed = true;
      removed += del.length;
    }
    if (!changed) break;
  }
  return removed;
}

/**
 * `bwmorph(bw, 'thin', Inf)` on an unpadded binary image `[H,W]` (row-major, non-zero = set).
 *
 * @example
 * const bar = new Uint8Array(5 * 7); for (let x = 1; x < 6; x++) for (let y = 1; y < 4; y++) bar[y * 7 + x] = 1;
 * thin(bar, 5, 7); // a 1-pixel-wide horizontal line remains
 */
export function thin(bw: ArrayLike<number>, h: number, w: number): Uint8Array {
  if (bw.length !== h * w) throw new Error(`thin: expected ${h * w} values for ${h}x${w}; got ${bw.length}`);
  const stride = w + 2;
  const pad = new Uint8Array((h + 2) * stride);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) pad[(y + 1) * stride + x + 1] = bw[y * w + x] ? 1 : 0;
  thinPadded(pad, h, w);
  const out = new Uint8Array(h * w);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[y * w + x] = pad[(y + 1) * stride + x + 1];
  return out;
}
