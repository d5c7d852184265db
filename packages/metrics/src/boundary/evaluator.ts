import {
  asNhwc,
  checkSameSize,
  type NonFinitePolicy,
  nonFiniteError,
  type ReadArray,
  where,
  PairEvaluator,
  readOptions,
} from '../input.js';
import { seismGroundTruth } from './from-labels.js';
import { BoundaryMatcher } from './match.js';
import { edgeNms } from './nms.js';
import { thinPadded } from './thin.js';

/** Matching tolerance, as a fraction of the image diagonal, of the protocol (SAK's SEISM `eval_method.m`). */
export const BOUNDARY_MAX_DIST = { nyud: 0.011, pascal: 0.0075 } as const;

/** `K` thresholds k/(K+1), k = 1..K; K = 99 gives SAK's 0.01, 0.02, …, 0.99. */
export function boundaryThresholds(count: number): number[] {
  if (!Number.isInteger(count) || count < 1)
    throw new Error(`threshold count must be a positive integer; got ${count}`);
  return Array.from({ length: count }, (_, k) => (k + 1) / (count + 1));
}

export interface BoundaryOptions {
  /** Preset for `maxDist`: 'nyud' (0.011) or 'pascal' (0.0075). One of `dataset` / `maxDist` is required. */
  dataset?: keyof typeof BOUNDARY_MAX_DIST;
  /** Matching tolerance as a fraction of the image diagonal. */
  maxDist?: number;
  /** Number of thresholds k/(K+1) or the thresholds themselves (default 99: 0.01..0.99). */
  thresholds?: number | readonly number[];
  /**
   * Round-trip the predictions through 8-bit PNGs as the protocol does (default true): the probability map is
   * saved as uint8(255·p) (truncated, numpy), NMS output as MATLAB uint8 (rounded), read back as v/255.
   */
  quantize?: boolean;
  /** Non-maximum suppression of SAK's `nms_process.m` before thresholding (default true; see `edgeNms`). */
  nms?: boolean;
  /** Thin each thresholded map with `bwmorph(·,'thin',Inf)` (default true, as SEISM/BSDS). */
  thin?: boolean;
  /**
   * How the GT is prepared before matching. `'seism'` (default): as SAK's SEISM does for every ground
   * truth, `bwmorph(seg2bmap(gt), 'thin', Inf)` (`seismGroundTruth`); `gt` is then a label map (PASCAL-Context
   * `LabelMap`) or a binary boundary map (NYUD `Boundaries`), any non-negative integers. `'as-is'`: `gt` is
   * a binary 0/1 boundary map matched exactly as given.
   */
  gtPreparation?: 'seism' | 'as-is';
  nonFinite?: NonFinitePolicy;
}

/** Counts at one threshold: matched GT (cntR) over GT (sumR), matched predictions (cntP) over predictions (sumP). */
export interface BoundaryCounts {
  cntR: number;
  sumR: number;
  cntP: number;
  sumP: number;
}

export interface BoundaryResult {
  /** Optimal dataset scale F: counts pooled over the set per threshold, best F over thresholds (0..1). */
  odsF: number;
  odsP: number;
  odsR: number;
  odsThreshold: number;
  /** Optimal image scale F: each image at its own best threshold, counts pooled (SEISM `general_ois`). */
  oisF: number;
  oisP: number;
  oisR: number;
  /** Average precision: precision interpolated at recall 0:0.01:1 over the covered range, summed / 100. */
  ap: number;
  thresholds: number[];
  /** Pooled precision, recall and F per threshold. */
  precision: number[];
  recall: number[];
  f: number[];
  images: number;
  skippedNonFinite: number;
}

/** SEISM `eval_cont`: precision/recall/F of one set of counts, with its conventions for empty maps. */
export function prf(c: BoundaryCounts): { p: number; r: number; f: number } {
  let p: number;
  let r: number;
  if (c.sumR === 0) {
    r = 1;
    p = 0;
  } else if (c.sumP === 0) {
    r = 0;
    p = 1;
  } else {
    r = c.cntR / c.sumR;
    p = c.cntP / c.sumP;
  }
  return { p, r, f: p + r === 0 ? 0 : (2 * p * r) / (p + r) };
}

/** SEISM `gather_measure` on pooled counts (its precedence of the empty cases). */
function pooledPrf(c: BoundaryCounts): { p: number; r: number; f: number } {
  let p = 0;
  let r = 0;
  if (c.sumR === 0 && c.cntP === 0) {
    r = 1;
    p = 0;
  }
  if (c.sumP === 0 && c.cntR === 0) {
    r = 0;
    p = 1;
  }
  if (c.sumP !== 0 && c.cntR !== 0) {
    r = c.cntR / c.sumR;
    p = c.cntP / c.sumP;
  }
  return { p, r, f: p + r === 0 ? 0 : (2 * p * r) / (p + r) };
}

/**
 * Per-image boundary counts at every threshold: (quantise) → (NMS) → threshold ≥ t → thin → match to the GT
 * within maxDist × diagonal. `pred`: `[H*W]` probabilities in [0, 1]; `gt`: `[H*W]` binary boundary map.
 */
export function boundaryCountsForImage(
  pred: ArrayLike<number>,
  gt: ArrayLike<number>,
  h: number,
  w: number,
  options: {
    maxDist: number;
    thresholds: readonly number[];
    quantize?: boolean;
    nms?: boolean;
    thin?: boolean;
  },
): BoundaryCounts[] {
  const { maxDist, thresholds, quantize = true, nms = true, thin = true } = options;
  if (pred.length !== h * w || gt.length !== h * w) throw new Error(`expected ${h * w} values for ${h}x${w}`);
  let values: ArrayLike<number> = pred;
  if (quantize) {
    // np.uint8(255·p): truncation toward zero (p in [0, 1]).
    const q = new Float64Array(h * w);
    for (let i = 0; i < h * w; i++) q[i] = Math.min(255, Math.max(0, Math.trunc(pred[i] * 255))) / 255;
    values = q;
  }
  if (nms) {
    const e = edgeNms(values, h, w);
    if (quantize) {
      // MATLAB uint8(E·255): round half away from zero, saturate.
      for (let i = 0; i < h * w; i++) e[i] = Math.min(255, Math.max(0, Math.round(e[i] * 255))) / 255;
    }
    values = e;
  }
  const radius = maxDist * Math.sqrt(h * h + w * w);
  const matcher = new BoundaryMatcher(gt, h, w, radius);
  const stride = w + 2;
  // Pixels by decreasing value: the map thresholded at t is a prefix of this order, so the thresholds are
  // visited from the highest down and each binary map extends the previous one.
  const order = new Uint32Array(h * w);
  for (let i = 0; i < h * w; i++) order[i] = i;
  const vals = Float64Array.from(values);
  order.sort((a, b) => vals[b] - vals[a]);
  const raw = new Uint8Array((h + 2) * stride); // thresholded, padded
  const work = new Uint8Array((h + 2) * stride); // thinned copy
  const fg: number[] = []; // padded indices of the set pixels of `raw`
  const pixels: number[] = [];
  const byThreshold = thresholds.map((t, i) => [t, i] as const).sort((x, y) => y[0] - x[0]);
  const result: BoundaryCounts[] = new Array(thresholds.length);
  let next = 0;
  for (const [t, idx] of byThreshold) {
    while (next < order.length && vals[order[next]] >= t) {
      const i = order[next++];
      const y = (i / w) | 0;
      const p = (y + 1) * stride + (i - y * w) + 1;
      raw[p] = 1;
      fg.push(p);
    }
    pixels.length = 0;
    if (thin) {
      work.set(raw);
      thinPadded(work, h, w, fg);
      for (const p of fg) if (work[p]) pixels.push(unpad(p, stride));
    } else {
      for (const p of fg) pixels.push(unpad(p, stride));
    }
    const m = matcher.match(pixels);
    result[idx] = { cntR: m, sumR: matcher.gtCount, cntP: m, sumP: pixels.length };
  }
  return result;
}

function unpad(p: number, stride: number): number {
  const y = ((p / stride) | 0) - 1;
  const x = p - (y + 1) * stride - 1;
  return y * (stride - 2) + x;
}

/**
 * Boundary-detection evaluator with the BSDS / SEISM method of the protocol (SAK's MATLAB pipeline,
 * natively): per image and threshold, the (NMS-ed, 8-bit) prediction is thresholded at ≥ t, thinned, and its
 * pixels are matched one-to-one with the GT boundary pixels within maxDist × image diagonal; counts are pooled
 * over the set for ODS, taken at each image's best threshold for OIS. See the README for the differences
 * from SEISM.
 *
 * `pred`: `[B,H,W(,1)]` (or `[H,W]`) boundary probabilities in [0, 1]; `gt`: same size. By default the GT
 * is prepared as SEISM does, `bwmorph(seg2bmap(gt), 'thin', Inf)`: pass PASCAL-Context's `LabelMap` or
 * NYUD's binary `Boundaries` as they are (crop any padding first: a padded border would become a boundary).
 * With `gtPreparation: 'as-is'`, `gt` is a binary 0/1 boundary map used unchanged (255 is rejected).
 *
 * @example
 * const ev = new BoundaryEvaluator({ dataset: 'nyud' });
 * await ev.update(edgeProb, edgeGt);
 * ev.result().odsF; // 0..1 (the paper prints 100·odsF)
 */
export class BoundaryEvaluator extends PairEvaluator {
  readonly maxDist: number;
  readonly thresholds: number[];
  readonly quantize: boolean;
  readonly nms: boolean;
  readonly thin: boolean;
  readonly gtPreparation: 'seism' | 'as-is';
  readonly nonFinite: NonFinitePolicy;
  private readonly pooled: BoundaryCounts[];
  private readonly ois: BoundaryCounts = { cntR: 0, sumR: 0, cntP: 0, sumP: 0 };
  private images = 0;
  private skipped = 0;

  constructor(options: BoundaryOptions) {
    super();
    readOptions(options, 'BoundaryEvaluator', [], "{dataset: 'nyud' | 'pascal'} or {maxDist}");
    const md = options.maxDist ?? (options.dataset ? BOUNDARY_MAX_DIST[options.dataset] : undefined);
    if (md === undefined)
      throw new Error("BoundaryEvaluator: pass {dataset: 'nyud' | 'pascal'} or {maxDist}");
    if (!(md > 0 && md < 1))
      throw new Error(`maxDist must be a fraction of the diagonal in (0, 1); got ${md}`);
    if (
      options.dataset &&
      options.maxDist !== undefined &&
      options.maxDist !== BOUNDARY_MAX_DIST[options.dataset]
    ) {
      throw new Error(`maxDist ${options.maxDist} contradicts dataset '${options.dataset}'; pass only one`);
    }
    this.maxDist = md;
    const t = options.thresholds ?? 99;
    this.thresholds = typeof t === 'number' ? boundaryThresholds(t) : [...t];
    if (this.thresholds.length === 0 || this.thresholds.some((v) => !(v > 0 && v <= 1))) {
      throw new Error('thresholds must be non-empty and lie in (0, 1]');
    }
    this.quantize = options.quantize ?? true;
    this.nms = options.nms ?? true;
    this.thin = options.thin ?? true;
    this.gtPreparation = options.gtPreparation ?? 'seism';
    if (this.gtPreparation !== 'seism' && this.gtPreparation !== 'as-is') {
      throw new Error(`gtPreparation must be 'seism' or 'as-is'; got ${String(options.gtPreparation)}`);
    }
    this.nonFinite = options.nonFinite ?? 'error';
    this.pooled = this.thresholds.map(() => ({ cntR: 0, sumR: 0, cntP: 0, sumP: 0 }));
  }

  /** Counts of one image, pooled into the evaluator; returns them per threshold. */
  protected add(predArr: ReadArray, gtArr: ReadArray): void {
    const p = asNhwc(predArr, 'pred', 1);
    const g = asNhwc(gtArr, 'gt', 1);
    checkSameSize(p, 'pred', g, 'gt');
    const hw = g.h * g.w;
    const seism = this.gtPreparation === 'seism';
    for (let b = 0; b < g.b; b++) {
      const pv = new Float64Array(hw);
      const gv = new Float64Array(hw);
      for (let i = 0; i < hw; i++) {
        const j = b * hw + i;
        const t = g.data[j];
        if (seism ? !(Number.isInteger(t) && t >= 0) : t !== 0 && t !== 1) {
          throw new Error(
            seism
              ? `gt: label ${t} at ${where(j, g)} must be a non-negative integer (a segment id or 0/1 boundary)`
              : `gt: boundary label ${t} at ${where(j, g)} must be 0 or 1 with gtPreparation 'as-is' (divide 0/255 maps by 255, crop padding)`,
          );
        }
        gv[i] = t;
        let v = p.data[j];
        if (!Number.isFinite(v)) {
          if (this.nonFinite === 'error') throw nonFiniteError('pred', j, p, v);
          this.skipped++;
          v = 0; // a non-finite prediction is treated as "no boundary"
        }
        pv[i] = v;
      }
      const gtMap = seism ? seismGroundTruth(gv, g.h, g.w) : gv;
      const counts = boundaryCountsForImage(pv, gtMap, g.h, g.w, {
        maxDist: this.maxDist,
        thresholds: this.thresholds,
        quantize: this.quantize,
        nms: this.nms,
        thin: this.thin,
      });
      let best = -1;
      let bestK = 0;
      counts.forEach((c, k) => {
        const q = this.pooled[k];
        q.cntR += c.cntR;
        q.sumR += c.sumR;
        q.cntP += c.cntP;
        q.sumP += c.sumP;
        const f = prf(c).f;
        if (f > best) {
          best = f;
          bestK = k;
        }
      });
      const c = counts[bestK];
      this.ois.cntR += c.cntR;
      this.ois.sumR += c.sumR;
      this.ois.cntP += c.cntP;
      this.ois.sumP += c.sumP;
      this.images++;
    }
  }

  reset(): void {
    for (const q of this.pooled) Object.assign(q, { cntR: 0, sumR: 0, cntP: 0, sumP: 0 });
    Object.assign(this.ois, { cntR: 0, sumR: 0, cntP: 0, sumP: 0 });
    this.images = 0;
    this.skipped = 0;
  }

  /** Counts pooled so far, per threshold (for merging evaluators run in parallel). */
  pooledCounts(): BoundaryCounts[] {
    return this.pooled.map((c) => ({ ...c }));
  }

  result(): BoundaryResult {
    const precision: number[] = [];
    const recall: number[] = [];
    const f: number[] = [];
    let k = 0;
    this.pooled.forEach((c, i) => {
      const v = pooledPrf(c);
      precision.push(v.p);
      recall.push(v.r);
      f.push(v.f);
      if (v.f > f[k]) k = i;
    });
    const ois = prf(this.ois);
    return {
      odsF: f[k],
      odsP: precision[k],
      odsR: recall[k],
      odsThreshold: this.thresholds[k],
      oisF: ois.f,
      oisP: ois.p,
      oisR: ois.r,
      ap: averagePrecision(recall, precision),
      thresholds: [...this.thresholds],
      precision,
      recall,
      f,
      images: this.images,
      skippedNonFinite: this.skipped,
    };
  }
}

/**
 * SEISM `general_ap`: keep one point per distinct recall (the first occurrence, MATLAB `unique`), interpolate
 * precision linearly at recall 0, 0.01, …, 1 inside the covered recall range, sum, divide by 100.
 */
export function averagePrecision(recall: readonly number[], precision: readonly number[]): number {
  const seen = new Map<number, number>();
  recall.forEach((r, i) => {
    if (!seen.has(r)) seen.set(r, precision[i]);
  });
  const pts = [...seen.entries()].sort((a, b) => a[0] - b[0]);
  if (pts.length < 2) return 0;
  let sum = 0;
  let j = 0;
  for (let s = 0; s <= 100; s++) {
    const r = s / 100;
    if (r < pts[0][0] || r > pts[pts.length - 1][0]) continue;
    while (j < pts.length - 2 && pts[j + 1][0] < r) j++;
    const [r0, p0] = pts[j];
    const [r1, p1] = pts[j + 1];
    sum += r1 === r0 ? p0 : p0 + ((p1 - p0) * (r - r0)) / (r1 - r0);
  }
  return sum / 100;
}
