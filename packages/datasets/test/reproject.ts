/**
 * A plain-JS reference reprojection for the tests (independent of the renderer): warps a neighbour's
 * RGB into the reference view with the reference depth and T_nbr<-ref = inv(c2w_nbr)·c2w_ref.
 */
import type { SampleView } from '../src/index.js';

export function relativePose(ref: Float64Array, nbr: Float64Array): number[] {
  // inv(nbr) for a rigid transform: [Rᵀ | −Rᵀ t]
  const inv = new Array(16).fill(0);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) inv[i * 4 + j] = nbr[j * 4 + i];
    inv[i * 4 + 3] = -(nbr[i] * nbr[3] + nbr[4 + i] * nbr[7] + nbr[8 + i] * nbr[11]);
  }
  inv[15] = 1;
  const out = new Array(16).fill(0);
  for (let i = 0; i < 4; i++)
    for (let j = 0; j < 4; j++) for (let k = 0; k < 4; k++) out[i * 4 + j] += inv[i * 4 + k] * ref[k * 4 + j];
  return out;
}

export interface WarpResult {
  /** Warped neighbour RGB `[H,W,3]`. */
  rgb: Float32Array;
  /** 1 where the reference pixel projects inside the neighbour and is visible there (not occluded). */
  valid: Uint8Array;
}

/**
 * @param refDepth `[H,W]` z-depth of the reference.
 * @param nbrDepth `[H,W]` z-depth of the neighbour (for the occlusion test).
 */
export function warpNeighbour(
  ref: SampleView,
  nbr: SampleView,
  refDepth: Float32Array,
  nbrDepth: Float32Array,
  H: number,
  W: number,
): WarpResult {
  const T = relativePose(ref.cameraToWorld, nbr.cameraToWorld);
  const K = ref.intrinsics;
  const Kn = nbr.intrinsics;
  const rgb = new Float32Array(H * W * 3);
  const valid = new Uint8Array(H * W);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = y * W + x;
      const d = refDepth[i];
      const X = ((x - K[2]) / K[0]) * d;
      const Y = ((y - K[5]) / K[4]) * d;
      const px = T[0] * X + T[1] * Y + T[2] * d + T[3];
      const py = T[4] * X + T[5] * Y + T[6] * d + T[7];
      const pz = T[8] * X + T[9] * Y + T[10] * d + T[11];
      if (pz <= 0.05) continue;
      const u = Kn[0] * (px / pz) + Kn[2];
      const v = Kn[4] * (py / pz) + Kn[5];
      const x0 = Math.floor(u);
      const y0 = Math.floor(v);
      if (x0 < 0 || y0 < 0 || x0 + 1 >= W || y0 + 1 >= H) continue;
      const fx = u - x0;
      const fy = v - y0;
      // Visible when all 4 bilinear taps see the same surface depth as the projected point (1.5%).
      let ok = true;
      for (const [dx, dy] of [
        [0, 0],
        [1, 0],
        [0, 1],
        [1, 1],
      ]) {
        const nd = nbrDepth[(y0 + dy) * W + x0 + dx];
        if (Math.abs(nd - pz) > 0.015 * pz) ok = false;
      }
      if (!ok) continue;
      valid[i] = 1;
      for (let c = 0; c < 3; c++) {
        const a = nbr.rgb[(y0 * W + x0) * 3 + c];
        const b = nbr.rgb[(y0 * W + x0 + 1) * 3 + c];
        const e = nbr.rgb[((y0 + 1) * W + x0) * 3 + c];
        const f = nbr.rgb[((y0 + 1) * W + x0 + 1) * 3 + c];
        rgb[i * 3 + c] = (a * (1 - fx) + b * fx) * (1 - fy) + (e * (1 - fx) + f * fx) * fy;
      }
    }
  }
  return { rgb, valid };
}

/** Mean absolute RGB difference over valid pixels, and the fraction of valid pixels. */
export function maskedError(
  a: Float32Array,
  b: Float32Array,
  valid: Uint8Array,
): { mae: number; coverage: number } {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < valid.length; i++) {
    if (!valid[i]) continue;
    for (let c = 0; c < 3; c++) sum += Math.abs(a[3 * i + c] - b[3 * i + c]);
    n++;
  }
  return { mae: n === 0 ? Number.NaN : sum / (3 * n), coverage: n / valid.length };
}
