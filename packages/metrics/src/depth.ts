import {
  asNhwc,
  checkSameSize,
  type NonFinitePolicy,
  nonFiniteError,
  type ReadArray,
  PairEvaluator,
} from './input.js';

export interface DepthOptions {
  /** Valid GT is `minDepth < gt < maxDepth` (protocol: 0 and 80 m). */
  minDepth?: number;
  maxDepth?: number;
  /** NaN/Inf predictions on valid pixels: `'error'` (default) or `'skip'`. */
  nonFinite?: NonFinitePolicy;
}

export interface DepthResult {
  /** sqrt(Σ (pred − gt)² / N) over all valid pixels of the set (pooled, metres): the paper's "RMSE". */
  rmse: number;
  /** Mean over images (with valid pixels) of the per-image RMSE, the common per-image variant, for comparison. */
  rmsePerImage: number;
  /** mean |pred − gt| / gt. */
  absRel: number;
  /** mean (pred − gt)² / gt. */
  sqRel: number;
  /** mean |log10 pred − log10 gt|. */
  log10: number;
  /** sqrt(mean (ln pred − ln gt)²). */
  rmseLog: number;
  /** Fraction (percent) with max(pred/gt, gt/pred) < 1.25, 1.25², 1.25³. */
  delta1: number;
  delta2: number;
  delta3: number;
  /** Valid pixels N and images seen. */
  pixels: number;
  images: number;
  skippedNonFinite: number;
}

/**
 * Depth evaluator (SAK / MTL-PyTorch `DepthMeter`): valid pixels are `0 < gt < 80`, predictions ≤ 0 are
 * replaced by 1e-9 (as the reference does), squared errors are summed over every valid pixel of the whole
 * set and the square root is taken at the end. Extras use the same valid pixels (log-based ones on the
 * clamped prediction).
 *
 * `pred`, `gt`: metres, `[B,H,W]`, `[B,H,W,1]` or `[H,W]`.
 *
 * @example
 * const ev = new DepthEvaluator();
 * await ev.update(predDepth, gtDepth);
 * ev.result().rmse; // metres
 */
export class DepthEvaluator extends PairEvaluator {
  readonly minDepth: number;
  readonly maxDepth: number;
  readonly nonFinite: NonFinitePolicy;
  private sq = 0;
  private n = 0;
  private absRel = 0;
  private sqRel = 0;
  private log10 = 0;
  private logSq = 0;
  private d1 = 0;
  private d2 = 0;
  private d3 = 0;
  private perImageRmseSum = 0;
  private images = 0;
  private imagesWithValid = 0;
  private skipped = 0;

  constructor(options: DepthOptions = {}) {
    super();
    this.minDepth = options.minDepth ?? 0;
    this.maxDepth = options.maxDepth ?? 80;
    this.nonFinite = options.nonFinite ?? 'error';
    if (!(this.maxDepth > this.minDepth)) throw new Error('maxDepth must be greater than minDepth');
  }

  /** One batch (see `update`): `pred`, `gt`: `[B,H,W(,1)]` metres. */
  protected add(predArr: ReadArray, gtArr: ReadArray): void {
    const p = asNhwc(predArr, 'pred', 1);
    const g = asNhwc(gtArr, 'gt', 1);
    checkSameSize(p, 'pred', g, 'gt');
    const hw = g.h * g.w;
    const lo = this.minDepth;
    const hi = this.maxDepth;
    const pd = p.data;
    const gd = g.data;
    for (let b = 0; b < g.b; b++) {
      let sqImg = 0;
      let nImg = 0;
      for (let i = b * hw; i < (b + 1) * hw; i++) {
        const t = gd[i];
        if (!(t > lo && t < hi)) continue;
        let v = pd[i];
        if (!Number.isFinite(v)) {
          if (this.nonFinite === 'skip') {
            this.skipped++;
            continue;
          }
          throw nonFiniteError('pred', i, p, v);
        }
        if (v <= 0) v = 1e-9;
        const e = v - t;
        sqImg += e * e;
        nImg++;
        this.absRel += Math.abs(e) / t;
        this.sqRel += (e * e) / t;
        const lr = Math.log(v) - Math.log(t);
        this.log10 += Math.abs(lr) / Math.LN10;
        this.logSq += lr * lr;
        const r = Math.max(v / t, t / v);
        if (r < 1.25) this.d1++;
        if (r < 1.25 ** 2) this.d2++;
        if (r < 1.25 ** 3) this.d3++;
      }
      this.sq += sqImg;
      this.n += nImg;
      this.images++;
      if (nImg > 0) {
        this.perImageRmseSum += Math.sqrt(sqImg / nImg);
        this.imagesWithValid++;
      }
    }
  }

  reset(): void {
    Object.assign(this, {
      sq: 0,
      n: 0,
      absRel: 0,
      sqRel: 0,
      log10: 0,
      logSq: 0,
      d1: 0,
      d2: 0,
      d3: 0,
      perImageRmseSum: 0,
      images: 0,
      imagesWithValid: 0,
      skipped: 0,
    });
  }

  result(): DepthResult {
    const n = this.n;
    const m = (x: number) => (n > 0 ? x / n : Number.NaN);
    return {
      rmse: Math.sqrt(m(this.sq)),
      rmsePerImage: this.imagesWithValid > 0 ? this.perImageRmseSum / this.imagesWithValid : Number.NaN,
      absRel: m(this.absRel),
      sqRel: m(this.sqRel),
      log10: m(this.log10),
      rmseLog: Math.sqrt(m(this.logSq)),
      delta1: 100 * m(this.d1),
      delta2: 100 * m(this.d2),
      delta3: 100 * m(this.d3),
      pixels: n,
      images: this.images,
      skippedNonFinite: this.skipped,
    };
  }
}
