import {
  asNhwc,
  checkSameSize,
  type NonFinitePolicy,
  type Nhwc,
  nonFiniteError,
  type ReadArray,
  where,
  PairEvaluator,
  readOptions,
} from './input.js';

/** Class counts of the protocol: NYUD-40 (no background), PASCAL-Context 21 (20 + background), parts 7. */
export const NUM_CLASSES = { nyudSemseg: 40, pascalSemseg: 21, pascalParts: 7 } as const;

export interface SegmentationOptions {
  /** Number of classes C; labels are 0..C-1. */
  numClasses: number;
  /** Ground-truth label to ignore (default 255). */
  ignoreIndex?: number;
  /** NaN/Inf in score maps: `'error'` (default) or `'skip'` the pixel. */
  nonFinite?: NonFinitePolicy;
}

export interface SegmentationResult {
  /** Mean of the per-class IoU, in percent (the paper's "mIoU"). Classes never seen in GT nor predicted count as IoU 0, as in the reference. */
  mIoU: number;
  /** Per-class IoU in percent, `[C]`. */
  perClassIoU: number[];
  /** Pixel accuracy over non-ignored pixels, percent. */
  pixelAccuracy: number;
  /** Mean per-class accuracy (recall) over classes present in GT, percent. */
  meanClassAccuracy: number;
  /** Number of evaluated (non-ignored) pixels. */
  pixels: number;
  /** Pixels left out because their scores were not finite (`nonFinite: 'skip'`). */
  skippedNonFinite: number;
}

/**
 * Semantic segmentation / human-parts evaluator: one confusion matrix over the whole set (ignore 255),
 * IoU_c = TP / (TP + FP + FN), mIoU = mean over all C classes (SAK / MTL-PyTorch `SemsegMeter`).
 *
 * `pred` is either labels `[B,H,W]` / `[B,H,W,1]` / `[H,W]` (integers 0..C-1) or scores `[B,H,W,C]`
 * (argmax taken, first maximum wins as in `torch.max`). `gt` is labels `[B,H,W]` / `[B,H,W,1]` / `[H,W]`
 * with values 0..C-1 or `ignoreIndex`; anything else throws.
 *
 * @example
 * const ev = new SegmentationEvaluator({ numClasses: 40 });
 * await ev.update(predLabels, gtLabels); // tensors or {data, shape}
 * ev.result().mIoU; // percent
 */
export class SegmentationEvaluator extends PairEvaluator {
  readonly numClasses: number;
  readonly ignoreIndex: number;
  readonly nonFinite: NonFinitePolicy;
  /** Confusion matrix, row = GT class, column = predicted class, `[C*C]` row-major. */
  readonly confusion: Float64Array;
  private skipped = 0;

  constructor(options: SegmentationOptions) {
    super();
    const {
      numClasses,
      ignoreIndex = 255,
      nonFinite = 'error',
    } = readOptions(
      options,
      'SegmentationEvaluator',
      ['numClasses'],
      '{numClasses} (NUM_CLASSES: 40 for NYUD semseg, 21 for PASCAL semseg, 7 for human parts)',
    );
    if (!Number.isInteger(numClasses) || numClasses < 1) {
      throw new Error(`numClasses must be a positive integer; got ${numClasses}`);
    }
    if (ignoreIndex >= 0 && ignoreIndex < numClasses) {
      throw new Error(`ignoreIndex ${ignoreIndex} collides with a class id (numClasses = ${numClasses})`);
    }
    this.numClasses = numClasses;
    this.ignoreIndex = ignoreIndex;
    this.nonFinite = nonFinite;
    this.confusion = new Float64Array(numClasses * numClasses);
  }

  /** One batch (see `update`). `pred`: labels `[B,H,W(,1)]` or scores `[B,H,W,C]`; `gt`: labels `[B,H,W(,1)]`. */
  protected add(predArr: ReadArray, gtArr: ReadArray): void {
    const C = this.numClasses;
    const g = asNhwc(gtArr, 'gt', 1);
    const p: Nhwc = isScoreMap(predArr, g, C) ? asNhwc(predArr, 'pred', C) : asNhwc(predArr, 'pred', 1);
    checkSameSize(p, 'pred', g, 'gt');
    const n = g.b * g.h * g.w;
    const gd = g.data;
    const pd = p.data;
    const ign = this.ignoreIndex;
    const conf = this.confusion;
    for (let i = 0; i < n; i++) {
      const t = gd[i];
      if (t === ign) continue;
      if (!(t >= 0 && t < C && Number.isInteger(t))) {
        throw new Error(
          `gt: label ${t} at ${where(i, g)} is outside 0..${C - 1} and is not the ignore index ${ign}`,
        );
      }
      let k: number;
      if (p.c === 1) {
        k = pd[i];
        if (!(k >= 0 && k < C && Number.isInteger(k))) {
          if (!Number.isFinite(k) && this.nonFinite === 'skip') {
            this.skipped++;
            continue;
          }
          if (!Number.isFinite(k)) throw nonFiniteError('pred', i, p, k);
          throw new Error(`pred: label ${k} at ${where(i, p)} is outside 0..${C - 1}`);
        }
      } else {
        const o = i * C;
        k = 0;
        let best = pd[o];
        let finite = Number.isFinite(best);
        for (let c = 1; c < C; c++) {
          const v = pd[o + c];
          if (!Number.isFinite(v)) finite = false;
          if (v > best) {
            best = v;
            k = c;
          }
        }
        if (!finite) {
          if (this.nonFinite === 'skip') {
            this.skipped++;
            continue;
          }
          throw nonFiniteError('pred', o, p, Number.NaN);
        }
      }
      conf[t * C + k]++;
    }
  }

  /** Clears the accumulated counts. */
  reset(): void {
    this.confusion.fill(0);
    this.skipped = 0;
  }

  /** The metrics of everything seen so far. */
  result(): SegmentationResult {
    const C = this.numClasses;
    const conf = this.confusion;
    const rowSum = new Float64Array(C);
    const colSum = new Float64Array(C);
    let total = 0;
    let diag = 0;
    for (let t = 0; t < C; t++) {
      for (let k = 0; k < C; k++) {
        const v = conf[t * C + k];
        rowSum[t] += v;
        colSum[k] += v;
        total += v;
      }
      diag += conf[t * C + t];
    }
    const perClassIoU: number[] = [];
    let accSum = 0;
    let accN = 0;
    for (let c = 0; c < C; c++) {
      const tp = conf[c * C + c];
      const fp = colSum[c] - tp;
      const fn = rowSum[c] - tp;
      // The reference divides by max(tp + fp + fn, 1e-8): an absent class scores 0.
      perClassIoU.push((100 * tp) / Math.max(tp + fp + fn, 1e-8));
      if (rowSum[c] > 0) {
        accSum += tp / rowSum[c];
        accN++;
      }
    }
    return {
      mIoU: perClassIoU.reduce((a, b) => a + b, 0) / C,
      perClassIoU,
      pixelAccuracy: total > 0 ? (100 * diag) / total : 0,
      meanClassAccuracy: accN > 0 ? (100 * accSum) / accN : 0,
      pixels: total,
      skippedNonFinite: this.skipped,
    };
  }
}

/** A prediction is a score map when it has one more axis than a label map, or a last axis of C. */
function isScoreMap(pred: ReadArray, gt: Nhwc, C: number): boolean {
  const s = pred.shape;
  if (C === 1) return false;
  if (s.length === 4) return s[3] === C;
  if (s.length === 3) return s[2] === C && !(gt.b === s[0] && gt.h === s[1] && gt.w === s[2]);
  return false;
}
