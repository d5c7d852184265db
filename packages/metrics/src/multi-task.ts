import { type BoundaryOptions, type BoundaryResult, BoundaryEvaluator } from './boundary/evaluator.js';
import { type DepthOptions, type DepthResult, DepthEvaluator } from './depth.js';
import { deltaMtl, type TaskName, type TaskScores } from './delta-mtl.js';
import { type DenseInput, readOptions } from './input.js';
import { type NormalsOptions, type NormalsResult, NormalsEvaluator } from './normals.js';
import { type SaliencyOptions, type SaliencyResult, SaliencyEvaluator } from './saliency.js';
import { NUM_CLASSES, type SegmentationResult, SegmentationEvaluator } from './segmentation.js';

export type DatasetName = 'nyud' | 'pascal';

/** The tasks of each dataset, in the paper's column order. */
export const DATASET_TASKS: Readonly<Record<DatasetName, readonly TaskName[]>> = {
  nyud: ['semseg', 'depth', 'normals', 'edge'],
  pascal: ['semseg', 'human_parts', 'sal', 'normals', 'edge'],
};

/** Column headers of the paper's tables. */
const COLUMN: Record<TaskName, string> = {
  semseg: 'Seg. (mIoU) ↑',
  human_parts: 'PartSeg (mIoU) ↑',
  sal: 'Sal (maxF) ↑',
  depth: 'Depth (RMSE) ↓',
  normals: 'Normal (mErr) ↓',
  edge: 'Boundary (odsF) ↑',
};

export interface MultiTaskOptions {
  dataset: DatasetName;
  /** Subset of the dataset's tasks (default: all). */
  tasks?: readonly TaskName[];
  /** ΔMTL baseline in paper units (e.g. `PAPER_BASELINES.nyudVitBStl.scores`). */
  baseline?: TaskScores;
  boundary?: Omit<BoundaryOptions, 'dataset'>;
  depth?: DepthOptions;
  normals?: NormalsOptions;
  saliency?: SaliencyOptions;
}

export interface MultiTaskResult {
  dataset: DatasetName;
  /** Headline numbers in the paper's units: mIoU %, maxF %, odsF % (×100), RMSE m, mErr °. */
  scores: TaskScores;
  /** ΔMTL (%) against `baseline`, when one was given. */
  deltaMtl?: number;
  semseg?: SegmentationResult;
  human_parts?: SegmentationResult;
  sal?: SaliencyResult;
  depth?: DepthResult;
  normals?: NormalsResult;
  edge?: BoundaryResult;
}

/**
 * All evaluators of a dataset behind one `update`: NYUD (semseg 40 classes, depth, normals, edge with
 * maxDist 0.011) or PASCAL-Context (semseg 21, human_parts 7, sal, normals, edge with 0.0075).
 *
 * @example
 * const ev = new MultiTaskEvaluator({ dataset: 'nyud', baseline: PAPER_BASELINES.nyudVitBStl.scores });
 * await ev.update({ semseg: p.semseg, depth: p.depth, normals: p.normals, edge: p.edge }, gt);
 * console.log(formatTable([{ name: 'Ours', ...ev.result() }], 'nyud'));
 */
export class MultiTaskEvaluator {
  readonly dataset: DatasetName;
  readonly tasks: readonly TaskName[];
  readonly baseline?: TaskScores;
  readonly semseg?: SegmentationEvaluator;
  readonly human_parts?: SegmentationEvaluator;
  readonly sal?: SaliencyEvaluator;
  readonly depth?: DepthEvaluator;
  readonly normals?: NormalsEvaluator;
  readonly edge?: BoundaryEvaluator;

  constructor(options: MultiTaskOptions) {
    const { dataset } = readOptions(
      options,
      'MultiTaskEvaluator',
      ['dataset'],
      "{dataset: 'nyud' | 'pascal'}",
    );
    if (!(dataset in DATASET_TASKS)) throw new Error(`dataset must be 'nyud' or 'pascal'; got ${dataset}`);
    this.dataset = dataset;
    this.tasks = options.tasks ?? DATASET_TASKS[dataset];
    for (const t of this.tasks) {
      if (!DATASET_TASKS[dataset].includes(t)) throw new Error(`task '${t}' is not a ${dataset} task`);
    }
    this.baseline = options.baseline;
    const has = (t: TaskName) => this.tasks.includes(t);
    if (has('semseg')) {
      this.semseg = new SegmentationEvaluator({
        numClasses: dataset === 'nyud' ? NUM_CLASSES.nyudSemseg : NUM_CLASSES.pascalSemseg,
      });
    }
    if (has('human_parts'))
      this.human_parts = new SegmentationEvaluator({ numClasses: NUM_CLASSES.pascalParts });
    if (has('sal')) this.sal = new SaliencyEvaluator(options.saliency);
    if (has('depth')) this.depth = new DepthEvaluator(options.depth);
    if (has('normals')) this.normals = new NormalsEvaluator(options.normals);
    if (has('edge')) this.edge = new BoundaryEvaluator({ dataset, ...options.boundary });
  }

  /** Adds a batch: predictions and GT keyed by task (every task of the evaluator must be present). */
  async update(
    pred: Partial<Record<TaskName, DenseInput>>,
    gt: Partial<Record<TaskName, DenseInput>>,
  ): Promise<void> {
    for (const t of this.tasks) {
      const p = pred[t];
      const g = gt[t];
      if (!p || !g)
        throw new Error(`MultiTaskEvaluator.update: missing ${!p ? 'prediction' : 'GT'} for task '${t}'`);
      const ev = this[t];
      if (ev) await ev.update(p, g);
    }
  }

  reset(): void {
    for (const t of this.tasks) this[t]?.reset();
  }

  result(): MultiTaskResult {
    const out: MultiTaskResult = { dataset: this.dataset, scores: {} };
    const s = out.scores;
    if (this.semseg) s.semseg = (out.semseg = this.semseg.result()).mIoU;
    if (this.human_parts) s.human_parts = (out.human_parts = this.human_parts.result()).mIoU;
    if (this.sal) s.sal = (out.sal = this.sal.result()).maxF;
    if (this.depth) s.depth = (out.depth = this.depth.result()).rmse;
    if (this.normals) s.normals = (out.normals = this.normals.result()).mErr;
    if (this.edge) s.edge = 100 * (out.edge = this.edge.result()).odsF;
    if (this.baseline) out.deltaMtl = deltaMtl(s, this.baseline);
    return out;
  }
}

/** A JSON-serialisable copy (NaN and ±Infinity become null). */
export function toRecord<T>(result: T): unknown {
  return JSON.parse(
    JSON.stringify(result, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)),
  );
}

/** One row of `formatTable`. */
export interface TableRow {
  name: string;
  scores: TaskScores;
  deltaMtl?: number;
}

/**
 * A plain-text table laid out like the paper's (e.g. "Method | Seg. (mIoU) ↑ | Depth (RMSE) ↓ | Normal (mErr) ↓ |
 * Boundary (odsF) ↑ | ΔMTL ↑"), two decimals, four for depth RMSE; missing values print as "–".
 *
 * @example
 * formatTable([{ name: 'STL', scores: PAPER_BASELINES.nyudVitBStl.scores, deltaMtl: 0 }], 'nyud');
 */
export function formatTable(rows: readonly TableRow[], dataset: DatasetName): string {
  const tasks = DATASET_TASKS[dataset];
  const header = ['Method', ...tasks.map((t) => COLUMN[t]), 'ΔMTL ↑'];
  const body = rows.map((r) => [
    r.name,
    ...tasks.map((t) => {
      const v = r.scores[t];
      return v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(t === 'depth' ? 4 : 2);
    }),
    r.deltaMtl === undefined ? '–' : r.deltaMtl.toFixed(2),
  ]);
  const all = [header, ...body];
  const width = header.map((_, j) => Math.max(...all.map((row) => [...row[j]].length)));
  const line = (row: string[]) =>
    row.map((c, j) => (j === 0 ? c.padEnd(width[j]) : c.padStart(width[j]))).join(' | ');
  return [line(header), width.map((n) => '-'.repeat(n)).join('-|-'), ...body.map(line)].join('\n');
}
