/** Task names of the protocol, as the references key them. */
export type TaskName = 'semseg' | 'human_parts' | 'sal' | 'normals' | 'edge' | 'depth';

/** Scores keyed by task, in the paper's units: mIoU %, maxF %, odsF %, RMSE m, mErr °. */
export type TaskScores = Partial<Record<string, number>>;

/** Direction of each protocol metric: true when higher is better (depth RMSE and normals mErr are lower-is-better). */
export const HIGHER_IS_BETTER: Readonly<Record<TaskName, boolean>> = {
  semseg: true,
  human_parts: true,
  sal: true,
  edge: true,
  depth: false,
  normals: false,
};

/**
 * ΔMTL = (1/T) Σ_t (−1)^{l_t} (M_t − M_STL,t) / M_STL,t × 100, l_t = 1 when lower is better; the mean over
 * the tasks of `scores` (each must also be in `baseline` and have a known direction).
 *
 * @example
 * deltaMtl({ semseg: 55.03, depth: 0.5186, normals: 18.49, edge: 77.97 }, PAPER_BASELINES.nyudVitBStl.scores);
 * // 6.33 (Tab. A12, RADIO)
 */
export function deltaMtl(
  scores: TaskScores,
  baseline: TaskScores,
  higherIsBetter: Readonly<Record<string, boolean>> = HIGHER_IS_BETTER,
): number {
  const tasks = Object.keys(scores).filter((t) => scores[t] !== undefined);
  if (tasks.length === 0) throw new Error('deltaMtl: no task scores given');
  let sum = 0;
  for (const t of tasks) {
    const m = scores[t] as number;
    const b = baseline[t];
    const hib = higherIsBetter[t];
    if (b === undefined) throw new Error(`deltaMtl: baseline has no score for task '${t}'`);
    if (hib === undefined)
      throw new Error(`deltaMtl: unknown direction for task '${t}'; pass higherIsBetter`);
    if (!Number.isFinite(m) || !Number.isFinite(b) || b === 0) {
      throw new Error(`deltaMtl: task '${t}' needs finite scores and a non-zero baseline; got ${m} vs ${b}`);
    }
    sum += ((hib ? 1 : -1) * (m - b)) / b;
  }
  return (100 * sum) / tasks.length;
}

export interface PaperBaseline {
  /** Where the numbers are printed. */
  source: string;
  dataset: 'nyud' | 'pascal';
  scores: Record<string, number>;
}

/**
 * The ΔMTL baselines printed in the CvM paper's supplementary material (Tab. A11–A14). Tab. A8–A10 and A15
 * use the ViT-L "STL" row of the main paper's Tab. 2, which the supplementary does not print.
 */
export const PAPER_BASELINES = {
  /** Tab. A12, ViT-B, NYUv2, single-task learning. */
  nyudVitBStl: {
    source: 'Tab. A12 (ViT-B, NYUv2): STL',
    dataset: 'nyud',
    scores: { semseg: 51.15, depth: 0.5792, normals: 19.77, edge: 77.35 },
  },
  /** Tab. A13, ViT-B, PASCAL-Context, single-task learning. */
  pascalVitBStl: {
    source: 'Tab. A13 (ViT-B, PASCAL-Context): STL',
    dataset: 'pascal',
    scores: { semseg: 80.25, human_parts: 70.54, sal: 84.54, normals: 13.57, edge: 74.22 },
  },
  /** Tab. A11, ViT-B, NYUv2 + video: SAK trained without video. */
  nyudVitBSakNoVideo: {
    source: 'Tab. A11 (ViT-B, NYUv2 + video): SAK w/o video',
    dataset: 'nyud',
    scores: { semseg: 59.93, depth: 0.4942, normals: 17.6, edge: 78.6 },
  },
  /** Tab. A11, ViT-B, NYUv2 + video: DINOv3 trained without video. */
  nyudVitBDinov3NoVideo: {
    source: 'Tab. A11 (ViT-B, NYUv2 + video): DINOv3 w/o video',
    dataset: 'nyud',
    scores: { semseg: 59.73, depth: 0.465, normals: 16.8, edge: 78.53 },
  },
  /** Tab. A14, ViT-L, NYUv2 + video: DINOv3 trained without video. */
  nyudVitLDinov3NoVideo: {
    source: 'Tab. A14 (ViT-L, NYUv2 + video): DINOv3 w/o video',
    dataset: 'nyud',
    scores: { semseg: 63.68, depth: 0.4113, normals: 15.53, edge: 80.1 },
  },
} as const satisfies Record<string, PaperBaseline>;
