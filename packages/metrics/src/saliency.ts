import {
  asNhwc,
  checkSameSize,
  type NonFinitePolicy,
  nonFiniteError,
  type ReadArray,
  where,
  PairEvaluator,
} from './input.js';

/**
 * The protocol's saliency thresholds: `torch.arange(0.05, 1, 0.05)` (float32), i.e. 0.05, 0.10, …, 0.95 with
 * the exact float32 values torch's CPU kernel produces on AVX2 machines: blocks of 8 computed as
 * float32(base) + j·float32(0.05) with one rounding (FMA), base = float32(0.05 + 0.05·i) from double, and the
 * last 3 as float32(0.05 + 0.05·i). (Checked against torch 1.13; e.g. the 12th is 0.59999996, not 0.6.)
 * Other SIMD widths give thresholds one float32 ulp apart, which only matters for predictions exactly on them.
 */
export const SALIENCY_THRESHOLDS: readonly number[] = Array.from({ length: 19 }, (_, i) => {
  if (i >= 16) return Math.fround(0.05 + 0.05 * i);
  const j = i % 8;
  const base = Math.fround(0.05 + 0.05 * (i - j));
  return Math.fround(base + j * Math.fround(0.05));
});

export interface SaliencyOptions {
  /** Scale of the predictions: 1 (default, probabilities) or 255 (the reference meter's 0..255 input). */
  predScale?: number;
  /** β² of the F-measure (default 0.3). */
  beta2?: number;
  /** GT value to ignore (default 255). */
  ignoreIndex?: number;
  /** Thresholds on the probability (default `SALIENCY_THRESHOLDS`). */
  thresholds?: readonly number[];
  nonFinite?: NonFinitePolicy;
}

export interface SaliencyResult {
  /** max over thresholds of F_β (β² = 0.3) from counts pooled over the set, percent (the paper's "maxF"). */
  maxF: number;
  /** Threshold that gives maxF. */
  maxFThreshold: number;
  /** max over thresholds of the mean over images of the per-image IoU, percent (the reference's "mIoU"). */
  mIoU: number;
  /** F (percent) per threshold. */
  fPerThreshold: number[];
  thresholds: number[];
  images: number;
  skippedNonFinite: number;
}

/**
 * Saliency evaluator (SAK / MTL-PyTorch `SaliencyMeter`): for each threshold t, pred ≥ t is positive; TP,
 * predicted-positive and actual-positive counts are pooled over the set; P = TP/(PP + 1e-8),
 * R = TP/(AP + 1e-8), F = (1 + β²)PR/(β²P + R + 1e-8); maxF = max over t. Comparisons are done in float32
 * like the reference. Per-image IoU at each threshold is averaged over images; mIoU is its maximum. An image
 * whose prediction and GT are both empty (IoU 0/0, where the reference would divide by zero) counts IoU 1.
 *
 * `pred`: `[B,H,W(,1)]` probabilities (or 0..255 with `predScale: 255`); `gt`: `[B,H,W(,1)]` 0/1, 255 ignored.
 *
 * @example
 * const ev = new SaliencyEvaluator();
 * await ev.update(prob, mask);
 * ev.result().maxF; // percent
 */
export class SaliencyEvaluator extends PairEvaluator {
  readonly thresholds: number[];
  readonly predScale: number;
  readonly beta2: number;
  readonly ignoreIndex: number;
  readonly nonFinite: NonFinitePolicy;
  private readonly tp: Float64Array;
  private readonly pp: Float64Array;
  private readonly ap: Float64Array;
  private readonly iouSum: Float64Array;
  private images = 0;
  private skipped = 0;

  constructor(options: SaliencyOptions = {}) {
    super();
    this.thresholds = (options.thresholds ?? SALIENCY_THRESHOLDS).map((t) => Math.fround(t));
    this.predScale = options.predScale ?? 1;
    this.beta2 = options.beta2 ?? 0.3;
    this.ignoreIndex = options.ignoreIndex ?? 255;
    this.nonFinite = options.nonFinite ?? 'error';
    const T = this.thresholds.length;
    this.tp = new Float64Array(T);
    this.pp = new Float64Array(T);
    this.ap = new Float64Array(T);
    this.iouSum = new Float64Array(T);
  }

  protected add(predArr: ReadArray, gtArr: ReadArray): void {
    const p = asNhwc(predArr, 'pred', 1);
    const g = asNhwc(gtArr, 'gt', 1);
    checkSameSize(p, 'pred', g, 'gt');
    const T = this.thresholds.length;
    const hw = g.h * g.w;
    const scale = Math.fround(this.predScale);
    const ign = this.ignoreIndex;
    // Per image: histogram of predictions by "number of thresholds passed" (0..T), split by GT label.
    const pos = new Float64Array(T + 1);
    const neg = new Float64Array(T + 1);
    const thr = this.thresholds;
    for (let b = 0; b < g.b; b++) {
      pos.fill(0);
      neg.fill(0);
      for (let i = b * hw; i < (b + 1) * hw; i++) {
        const t = g.data[i];
        if (t === ign) continue;
        if (t !== 0 && t !== 1) {
          throw new Error(
            `gt: saliency label ${t} at ${where(i, g)} must be 0, 1 or the ignore index ${ign}`,
          );
        }
        const raw = p.data[i];
        if (!Number.isFinite(raw)) {
          if (this.nonFinite === 'skip') {
            this.skipped++;
            continue;
          }
          throw nonFiniteError('pred', i, p, raw);
        }
        const v = scale === 1 ? Math.fround(raw) : Math.fround(Math.fround(raw) / scale);
        // Thresholds are increasing: count how many of them v passes.
        let k = 0;
        while (k < T && v >= thr[k]) k++;
        if (t === 1) pos[k]++;
        else neg[k]++;
      }
      // Cumulate from the top: predicted positive at threshold j ⇔ k > j.
      let cp = 0;
      let cn = 0;
      let totalPos = 0;
      for (let k = 0; k <= T; k++) totalPos += pos[k];
      for (let j = T - 1; j >= 0; j--) {
        cp += pos[j + 1];
        cn += neg[j + 1];
        this.tp[j] += cp;
        this.pp[j] += cp + cn;
        this.ap[j] += totalPos;
        const union = totalPos + cn;
        this.iouSum[j] += union > 0 ? cp / union : 1;
      }
      this.images++;
    }
  }

  reset(): void {
    this.tp.fill(0);
    this.pp.fill(0);
    this.ap.fill(0);
    this.iouSum.fill(0);
    this.images = 0;
    this.skipped = 0;
  }

  result(): SaliencyResult {
    const T = this.thresholds.length;
    const f: number[] = [];
    let best = -1;
    let bestT = 0;
    let bestIoU = 0;
    for (let j = 0; j < T; j++) {
      const P = this.tp[j] / (this.pp[j] + 1e-8);
      const R = this.tp[j] / (this.ap[j] + 1e-8);
      let F = ((1 + this.beta2) * P * R) / (this.beta2 * P + R + 1e-8);
      if (Number.isNaN(F)) F = 0;
      f.push(100 * F);
      if (100 * F > best) {
        best = 100 * F;
        bestT = this.thresholds[j];
      }
      if (this.images > 0) bestIoU = Math.max(bestIoU, this.iouSum[j] / this.images);
    }
    return {
      maxF: best,
      maxFThreshold: bestT,
      mIoU: 100 * bestIoU,
      fPerThreshold: f,
      thresholds: [...this.thresholds],
      images: this.images,
      skippedNonFinite: this.skipped,
    };
  }
}
