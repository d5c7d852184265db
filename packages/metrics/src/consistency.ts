import { asNhwc, checkSameSize, type DenseInput, type Nhwc, readInput, where } from './input.js';
import { AngleAccumulator, type AngleStats, angleDegrees } from './normals.js';

/** Pinhole intrinsics at the resolution of the depth map: `{fx, fy, cx, cy}` or a 3×3 row-major matrix. */
export type Intrinsics = { fx: number; fy: number; cx: number; cy: number } | readonly (readonly number[])[];

function readIntrinsics(k: Intrinsics): { fx: number; fy: number; cx: number; cy: number } {
  const v = Array.isArray(k)
    ? { fx: k[0][0], fy: k[1][1], cx: k[0][2], cy: k[1][2] }
    : (k as { fx: number; fy: number; cx: number; cy: number });
  if (!(v.fx > 0 && v.fy > 0 && Number.isFinite(v.cx) && Number.isFinite(v.cy))) {
    throw new Error(`intrinsics: need positive focal lengths and finite centre; got ${JSON.stringify(v)}`);
  }
  return v;
}

/**
 * Surface normals of a depth map (camera frame, OpenCV axes: +x right, +y down, +z forward), facing the
 * camera. Pixels are back-projected, P = d·((x − cx)/fx, (y − cy)/fy, 1); tangents are central differences
 * T_x = P(x+1, y) − P(x−1, y), T_y = P(x, y+1) − P(x, y−1); n = normalise(T_y × T_x). Pixels on the image
 * border or next to a non-positive / non-finite depth get NaN.
 *
 * `depth`: `[H*W]` metres; returns `[H*W*3]`. Multiply components by `axisSigns` to match a dataset whose
 * normals use other axis directions.
 *
 * @example
 * const n = depthToNormals(depth, 448, 576, { fx: 518.8, fy: 518.8, cx: 287.5, cy: 223.5 });
 */
export function depthToNormals(
  depth: ArrayLike<number>,
  h: number,
  w: number,
  intrinsics: Intrinsics,
  axisSigns: readonly [number, number, number] = [1, 1, 1],
): Float64Array {
  if (depth.length !== h * w)
    throw new Error(`depth: expected ${h * w} values for ${h}x${w}; got ${depth.length}`);
  const { fx, fy, cx, cy } = readIntrinsics(intrinsics);
  const out = new Float64Array(h * w * 3).fill(Number.NaN);
  // Back-projected points; NaN where the depth is unusable.
  const X = new Float64Array(h * w);
  const Y = new Float64Array(h * w);
  const Z = new Float64Array(h * w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const d = depth[i];
      const ok = d > 0 && Number.isFinite(d);
      X[i] = ok ? (d * (x - cx)) / fx : Number.NaN;
      Y[i] = ok ? (d * (y - cy)) / fy : Number.NaN;
      Z[i] = ok ? d : Number.NaN;
    }
  }
  const [sx, sy, sz] = axisSigns;
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      if (Number.isNaN(Z[i])) continue;
      // T_x = P(x+1) − P(x−1), T_y = P(y+1) − P(y−1); NaN neighbours propagate and are caught below.
      const ax = X[i + 1] - X[i - 1];
      const ay = Y[i + 1] - Y[i - 1];
      const az = Z[i + 1] - Z[i - 1];
      const bx = X[i + w] - X[i - w];
      const by = Y[i + w] - Y[i - w];
      const bz = Z[i + w] - Z[i - w];
      // n = T_y × T_x
      const nx = by * az - bz * ay;
      const ny = bz * ax - bx * az;
      const nz = bx * ay - by * ax;
      const len = Math.sqrt(nx * nx + ny * ny + nz * nz);
      if (!(len > 0)) continue; // also false for NaN
      out[3 * i] = (sx * nx) / len;
      out[3 * i + 1] = (sy * ny) / len;
      out[3 * i + 2] = (sz * nz) / len;
    }
  }
  return out;
}

export interface ConsistencyInput {
  /** Predicted normals `[B,H,W,3]` (any length; normalised here). */
  normals: DenseInput;
  /** Predicted depth `[B,H,W(,1)]` (metres) with `intrinsics`… */
  depth?: DenseInput;
  intrinsics?: Intrinsics;
  /** …or normals already derived from the depth by the caller, `[B,H,W,3]` (NaN = invalid). */
  depthNormals?: DenseInput;
  /** Optional mask `[B,H,W(,1)]`: only non-zero pixels count (e.g. where GT is valid). */
  mask?: DenseInput;
}

export interface ConsistencyResult extends AngleStats {
  skipped: number;
}

/**
 * Cross-task consistency (paper supplementary §A7.4): angular error (degrees) between normals derived from
 * the predicted depth and the predicted normals, averaged over all valid pixels of the set (NYUv2: 28.00° for
 * CvM vs 30.42° for DINOv3 in the paper). The paper does not say how it derives normals from depth; this
 * uses `depthToNormals` (central differences, camera frame). Both normals must use the same axis convention:
 * pass `axisSigns` (e.g. `[1, -1, -1]` for a +y up / +z backward frame).
 *
 * @example
 * const ev = new CrossTaskConsistencyEvaluator({ axisSigns: [1, 1, 1] });
 * await ev.update({ depth, normals, intrinsics: { fx: 518.8, fy: 518.8, cx: 287.5, cy: 223.5 } });
 * ev.result().mean; // degrees
 */
export class CrossTaskConsistencyEvaluator {
  readonly axisSigns: readonly [number, number, number];
  private readonly acc = new AngleAccumulator();
  private skipped = 0;

  constructor(options: { axisSigns?: readonly [number, number, number] } = {}) {
    this.axisSigns = options.axisSigns ?? [1, 1, 1];
  }

  async update(input: ConsistencyInput): Promise<void> {
    const n = asNhwc(await readInput(input.normals, 'normals'), 'normals', 3);
    let dn: Nhwc;
    if (input.depthNormals) {
      dn = asNhwc(await readInput(input.depthNormals, 'depthNormals'), 'depthNormals', 3);
    } else {
      if (!input.depth || !input.intrinsics) {
        throw new Error('CrossTaskConsistencyEvaluator.update: pass {depth, intrinsics} or {depthNormals}');
      }
      const d = asNhwc(await readInput(input.depth, 'depth'), 'depth', 1);
      const hw = d.h * d.w;
      const data = new Float64Array(d.b * hw * 3);
      for (let b = 0; b < d.b; b++) {
        const slice = Float64Array.from({ length: hw }, (_, i) => d.data[b * hw + i]);
        data.set(depthToNormals(slice, d.h, d.w, input.intrinsics, this.axisSigns), b * hw * 3);
      }
      dn = { data, b: d.b, h: d.h, w: d.w, c: 3 };
    }
    checkSameSize(n, 'normals', dn, input.depthNormals ? 'depthNormals' : 'depth');
    let mask: Nhwc | undefined;
    if (input.mask) {
      mask = asNhwc(await readInput(input.mask, 'mask'), 'mask', 1);
      checkSameSize(mask, 'mask', n, 'normals');
    }
    const count = n.b * n.h * n.w;
    for (let i = 0; i < count; i++) {
      if (mask && !mask.data[i]) continue;
      const o = 3 * i;
      const ax = dn.data[o];
      const ay = dn.data[o + 1];
      const az = dn.data[o + 2];
      if (!(Number.isFinite(ax) && Number.isFinite(ay) && Number.isFinite(az))) {
        this.skipped++;
        continue;
      }
      const px = n.data[o];
      const py = n.data[o + 1];
      const pz = n.data[o + 2];
      if (!(Number.isFinite(px) && Number.isFinite(py) && Number.isFinite(pz))) {
        throw new Error(`normals: non-finite prediction at ${where(o, n)}`);
      }
      this.acc.add(angleDegrees(px, py, pz, ax, ay, az));
    }
  }

  reset(): void {
    this.acc.reset();
    this.skipped = 0;
  }

  result(): ConsistencyResult {
    return { ...this.acc.stats(), skipped: this.skipped };
  }
}
