/**
 * Edge non-maximum suppression as SAK's `nms_process.m` does it with Piotr Dollár's toolbox, re-implemented
 * from the published description of those functions (no MATLAB involved):
 *
 *   E = convTri(E, 1);  [Ox, Oy] = gradient2(convTri(E, 4));  [Oxx] = gradient2(Ox);  [Oxy, Oyy] = gradient2(Oy);
 *   O = mod(atan(Oyy·sign(−Oxy) / (Oxx + 1e-5)), π);  E = edgesNms(E, O, r = 4, s = 5, m = 1.01)
 *
 * - `convTri(I, r)`: separable triangle filter, `[1 2 1]/4` for r = 1 and `[1..r, r+1, r..1]/(r+1)²` for
 *   integer r > 1, with symmetric (edge-repeating mirror) padding.
 * - `gradient2`: central differences inside, one-sided differences on the first/last row and column.
 * - `edgesNms`: a pixel is zeroed when m·E(p) is below the bilinearly interpolated E at any of p + d·(cos O,
 *   sin O), d = ±1..±r (coordinates clamped to [0, size − 1.001]); then values within s pixels of the image
 *   border are faded linearly (× distance / s).
 *
 * Piotr's mex code works in float32; this works in float64, so values can differ in the last bits, which
 * only matters for pixels exactly at a threshold after 8-bit quantisation.
 */

function triKernel(r: number): number[] {
  if (r <= 1) {
    const p = 12 / r / (r + 2) - 2;
    return [1 / (2 + p), p / (2 + p), 1 / (2 + p)];
  }
  const f: number[] = [];
  for (let i = 1; i <= r; i++) f.push(i);
  f.push(r + 1);
  for (let i = r; i >= 1; i--) f.push(i);
  const s = (r + 1) * (r + 1);
  return f.map((v) => v / s);
}

/** Symmetric-padding index: −1 → 0, −2 → 1, n → n − 1, n + 1 → n − 2. */
function reflect(i: number, n: number): number {
  for (;;) {
    if (i < 0) i = -i - 1;
    else if (i >= n) i = 2 * n - i - 1;
    else return i;
  }
}

/** Triangle filter of radius r (1 or an integer), `[H*W]` row-major. */
export function convTri(img: Float64Array, h: number, w: number, r: number): Float64Array {
  const f = triKernel(r);
  const R = (f.length - 1) / 2;
  const tmp = new Float64Array(h * w);
  const out = new Float64Array(h * w);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let k = -R; k <= R; k++) s += f[k + R] * img[row + reflect(x + k, w)];
      tmp[row + x] = s;
    }
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let k = -R; k <= R; k++) s += f[k + R] * tmp[reflect(y + k, h) * w + x];
      out[y * w + x] = s;
    }
  }
  return out;
}

/** Image gradients `[gx, gy]` like MATLAB's `gradient` (central inside, one-sided at the borders). */
export function gradient2(img: Float64Array, h: number, w: number): [Float64Array, Float64Array] {
  const gx = new Float64Array(h * w);
  const gy = new Float64Array(h * w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      if (w > 1) {
        gx[i] =
          x === 0 ? img[i + 1] - img[i] : x === w - 1 ? img[i] - img[i - 1] : (img[i + 1] - img[i - 1]) / 2;
      }
      if (h > 1) {
        gy[i] =
          y === 0 ? img[i + w] - img[i] : y === h - 1 ? img[i] - img[i - w] : (img[i + w] - img[i - w]) / 2;
      }
    }
  }
  return [gx, gy];
}

export interface EdgeNmsOptions {
  /** Suppression radius in pixels (SAK: 4). */
  r?: number;
  /** Border fade width in pixels (SAK: 5). */
  s?: number;
  /** Multiplier of the centre value (SAK: 1.01). */
  m?: number;
}

/**
 * Thin soft edge maps by non-maximum suppression along the local edge normal (SAK's `nms_process`).
 * `edges`: `[H*W]` values in [0, 1]; returns a new `[H*W]` map.
 *
 * @example
 * const thinned = edgeNms(prob, 448, 576); // then threshold / evaluate
 */
export function edgeNms(
  edges: ArrayLike<number>,
  h: number,
  w: number,
  options: EdgeNmsOptions = {},
): Float64Array {
  const { r = 4, m = 1.01 } = options;
  let s = options.s ?? 5;
  const E = convTri(Float64Array.from(edges), h, w, 1);
  const [ox, oy] = gradient2(convTri(E, h, w, 4), h, w);
  const [oxx] = gradient2(ox, h, w);
  const [oxy, oyy] = gradient2(oy, h, w);
  const out = new Float64Array(h * w);
  const interp = (x: number, y: number): number => {
    x = Math.min(Math.max(x, 0), w - 1.001);
    y = Math.min(Math.max(y, 0), h - 1.001);
    const x0 = Math.floor(x);
    const y0 = Math.floor(y);
    const dx0 = x - x0;
    const dy0 = y - y0;
    const dx1 = 1 - dx0;
    const dy1 = 1 - dy0;
    const i = y0 * w + x0;
    // x0 + 1 ≤ w − 1 and y0 + 1 ≤ h − 1 thanks to the clamp (for w, h ≥ 2).
    const x1 = x0 + 1 < w ? 1 : 0;
    const y1 = y0 + 1 < h ? w : 0;
    return E[i] * dx1 * dy1 + E[i + x1] * dx0 * dy1 + E[i + y1] * dx1 * dy0 + E[i + x1 + y1] * dx0 * dy0;
  };
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      let e = E[i];
      out[i] = e;
      if (!e) continue;
      e *= m;
      const sgn = Math.sign(-oxy[i]);
      let o = Math.atan((oyy[i] * sgn) / (oxx[i] + 1e-5));
      o = ((o % Math.PI) + Math.PI) % Math.PI;
      const c = Math.cos(o);
      const sn = Math.sin(o);
      for (let d = -r; d <= r; d++) {
        if (d === 0) continue;
        if (e < interp(x + d * c, y + d * sn)) {
          out[i] = 0;
          break;
        }
      }
    }
  }
  s = Math.min(s, Math.floor(w / 2), Math.floor(h / 2));
  for (let x = 0; x < s; x++) {
    for (let y = 0; y < h; y++) {
      out[y * w + x] *= x / s;
      out[y * w + (w - 1 - x)] *= x / s;
    }
  }
  for (let y = 0; y < s; y++) {
    for (let x = 0; x < w; x++) {
      out[y * w + x] *= y / s;
      out[(h - 1 - y) * w + x] *= y / s;
    }
  }
  return out;
}
