import { asNhwc, checkSameSize, type DenseInput, type Nhwc, readInput, where } from './input.js';
import { AngleAccumulator, type AngleStats, angleDegrees } from './normals.js';

/** Pinhole intrinsics at the resolution of the depth map: `{fx, fy, cx, cy}` or a 3×3 row-major matrix. */
export type Intrinsics = { fx: number; fy: number; cx: number; cy: number } | readonly (readonly number[])[];

/** `{fx, fy, cx, cy}` or a 3×3 matrix as the 3×3 rows that `@cvm/geometry` takes. */
function intrinsicsMatrix(k: Intrinsics): number[][] {
  if (Array.isArray(k)) {
    if (k.length !== 3 || k.some((row) => !Array.isArray(row) || row.length !== 3)) {
      throw new Error(`intrinsics: expected a 3x3 matrix or {fx, fy, cx, cy}; got ${JSON.stringify(k)}`);
    }
    return k.map((row) => [...row]);
  }
  const { fx, fy, cx, cy } = k as { fx: number; fy: number; cx: number; cy: number };
  if (!(fx > 0 && fy > 0 && Number.isFinite(cx) && Number.isFinite(cy))) {
    throw new Error(`intrinsics: need positive focal lengths and finite centre; got ${JSON.stringify(k)}`);
  }
  return [
    [fx, 0, cx],
    [0, fy, cy],
    [0, 0, 1],
  ];
}

/**
 * Normals of depth maps `[B,H,W]` with `@cvm/geometry`'s `depthToNormals`, the one implementation in cvm
 * (central differences, one-sided on the image border, zero next to an invalid depth). Geometry and tfjs are
 * loaded on first use only, so the rest of this package runs without them.
 */
async function normalsFromDepth(depth: Nhwc, intrinsics: Intrinsics): Promise<ArrayLike<number>> {
  const k = intrinsicsMatrix(intrinsics);
  let tf: typeof import('@tensorflow/tfjs-core');
  let geometry: typeof import('@cvm/geometry');
  try {
    [tf, geometry] = await Promise.all([import('@tensorflow/tfjs-core'), import('@cvm/geometry')]);
  } catch (cause) {
    throw new Error(
      'CrossTaskConsistencyEvaluator: normals from depth need @cvm/geometry and @tensorflow/tfjs-core ' +
        '(optional peers of @cvm/metrics) with a registered backend; install them or pass {depthNormals}',
      { cause },
    );
  }
  const d = tf.tensor4d(Float32Array.from(depth.data), [depth.b, depth.h, depth.w, 1]);
  let n: import('@tensorflow/tfjs-core').Tensor | undefined;
  try {
    n = geometry.depthToNormals(d, k);
    return await n.data();
  } finally {
    tf.dispose(n ? [d, n] : [d]);
  }
}

export interface ConsistencyInput {
  /** Predicted normals `[B,H,W,3]` (any length; normalised here). */
  normals: DenseInput;
  /** Predicted depth `[B,H,W(,1)]` (metres) with `intrinsics`… */
  depth?: DenseInput;
  intrinsics?: Intrinsics;
  /** …or normals already derived from the depth by the caller, `[B,H,W,3]` (NaN or zero = invalid). */
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
 * uses `depthToNormals` of `@cvm/geometry` (central differences, one-sided on the image border, camera frame,
 * facing the camera; pixels next to an invalid depth are skipped). That needs `@cvm/geometry` and
 * `@tensorflow/tfjs-core` with a backend, loaded on first use; without them pass `depthNormals`. Both normals
 * must use the same axis convention: pass `axisSigns` (e.g. `[1, -1, -1]` for a +y up / +z backward frame).
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
      const raw = await normalsFromDepth(d, input.intrinsics);
      const [sx, sy, sz] = this.axisSigns;
      const data = new Float64Array(raw.length);
      for (let i = 0; i < raw.length; i += 3) {
        data[i] = sx * raw[i];
        data[i + 1] = sy * raw[i + 1];
        data[i + 2] = sz * raw[i + 2];
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
      // Non-finite or zero: no normal there (geometry's depthToNormals gives 0 next to invalid depth).
      if (
        !(Number.isFinite(ax) && Number.isFinite(ay) && Number.isFinite(az)) ||
        ax * ax + ay * ay + az * az === 0
      ) {
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
