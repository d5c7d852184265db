import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { deltaMtl, formatTable, type TaskScores } from '@cvm/metrics';
import { writeFileAtomic } from '@cvm/nn/node';
import { listCheckpoints, readCheckpointMeta } from './checkpoint.js';
import { DEFAULTS, RESUMABLE, readConfigFile, type TrainConfig } from './config.js';
import { protocolOf } from './model.js';
import { RUN_FILES, trainRun } from './run.js';

/** One row of the ablation table: a variant of the base configuration. */
export interface AblationVariant {
  /** Folder prefix of its runs (`<key>-seed<s>`). */
  key: string;
  /** Row name (the paper's Tab. A11 / A15 rows). */
  label: string;
  /** What the variant changes in the base configuration. */
  changes: Partial<TrainConfig>;
  /** Trained with every seed (the rows the spread is measured on), or with the first seed only. */
  allSeeds: boolean;
}

/**
 * The rows, in the order they are trained (the comparison that matters first, so an interrupted
 * ablation has it; a re-run continues where it stopped).
 */
export const ABLATION_VARIANTS: readonly AblationVariant[] = [
  { key: 'baseline', label: 'MTL baseline (no CvM)', changes: { cvm: 'none' }, allSeeds: true },
  { key: 'cvm', label: 'CvM (full)', changes: { cvm: 'full' }, allSeeds: true },
  { key: 'no-cost-volume', label: 'CvM w/o cost volume', changes: { cvm: 'noCostVolume' }, allSeeds: false },
  {
    key: 'no-cross-view-features',
    label: 'CvM w/o cross-view features',
    changes: { cvm: 'noCrossViewFeatures' },
    allSeeds: false,
  },
  {
    key: 'self-attention',
    label: 'Self-attention capacity baseline',
    changes: { cvm: 'selfAttention' },
    allSeeds: false,
  },
  {
    key: 'multiview-data',
    label: 'MTL baseline, multi-view data (no CvM)',
    changes: { cvm: 'none', trainFrames: 'all' },
    allSeeds: false,
  },
];

/** One finished run of the ablation. */
export interface AblationRun {
  variant: string;
  seed: number;
  runDir: string;
  scores: TaskScores;
  /**
   * Against the baseline run of the same seed; for a baseline run, against the first seed's baseline
   * (the seed noise the other rows' spread is read against).
   */
  deltaMtl: number;
  /** Wall time of this session's training and evaluation (0 when reused from an earlier session). */
  seconds: number;
}

/** A row: the mean scores over its seeds, ΔMTL's mean and spread. */
export interface AblationRow {
  variant: string;
  label: string;
  seeds: number[];
  scores: TaskScores;
  /** Mean over the seeds (0 for the baseline row, by definition). */
  deltaMtl: number;
  /** Sample standard deviation of ΔMTL over the seeds (null with one seed). */
  deltaMtlStd: number | null;
  deltaMtlPerSeed: number[];
}

/**
 * The rows `--rows` names (variant keys, comma-separated; 'all' = every row), in training order. The
 * baseline is always among them: every other row's ΔMTL is measured against it.
 */
export function parseAblationRows(raw: string): AblationVariant[] {
  if (raw === 'all') return [...ABLATION_VARIANTS];
  const keys = raw.split(',').filter(Boolean);
  const known = ABLATION_VARIANTS.map((v) => v.key);
  for (const k of keys)
    if (!known.includes(k))
      throw new Error(`--rows: unknown row '${k}' (known: ${known.join(', ')}, or all)`);
  if (!keys.includes('baseline'))
    throw new Error("--rows: include 'baseline' (the other rows' ΔMTL is measured against it)");
  return ABLATION_VARIANTS.filter((v) => keys.includes(v.key));
}

/**
 * Throws when `runDir` holds a run configured otherwise than `config` (a re-run with other flags in the
 * same `--run-dir` must not reuse or resume it); options that do not change the numbers may differ.
 */
function checkSameRun(runDir: string, config: TrainConfig): void {
  const saved: TrainConfig = { ...DEFAULTS, ...readConfigFile(join(runDir, RUN_FILES.config)) };
  const differ = (Object.keys(config) as (keyof TrainConfig)[]).filter(
    (k) => k !== 'runDir' && !RESUMABLE.has(k) && JSON.stringify(saved[k]) !== JSON.stringify(config[k]),
  );
  if (differ.length > 0)
    throw new Error(
      `ablation: '${runDir}' holds a run with another configuration (${differ
        .map((k) => `${k} ${JSON.stringify(saved[k])} there, ${JSON.stringify(config[k])} now`)
        .join('; ')}): pick another --run-dir`,
    );
}

/** The final scores of a finished run directory, or null when it is absent or unfinished. */
function finishedScores(runDir: string, steps: number): TaskScores | null {
  if (!existsSync(join(runDir, RUN_FILES.config))) return null;
  const last = listCheckpoints(runDir).at(-1);
  if (!last) return null;
  const { state } = readCheckpointMeta(last);
  return state.step === steps && state.val ? state.val.scores : null;
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function sampleStd(values: readonly number[]): number | null {
  if (values.length < 2) return null;
  const m = mean(values);
  return Math.sqrt(values.reduce((a, v) => a + (v - m) ** 2, 0) / (values.length - 1));
}

/** Rows from runs: per-task means over seeds, ΔMTL (each seed against its own baseline) mean and spread. */
export function ablationRows(runs: readonly AblationRun[]): AblationRow[] {
  return ABLATION_VARIANTS.flatMap((v) => {
    const mine = runs.filter((r) => r.variant === v.key);
    if (mine.length === 0) return [];
    const tasks = Object.keys(mine[0].scores);
    const scores = Object.fromEntries(
      tasks.map((t) => [t, mean(mine.map((r) => r.scores[t] as number))]),
    ) as TaskScores;
    const per = mine.map((r) => r.deltaMtl);
    return [
      {
        variant: v.key,
        label: v.label,
        seeds: mine.map((r) => r.seed),
        scores,
        deltaMtl: v.key === 'baseline' ? 0 : mean(per),
        deltaMtlStd: sampleStd(per),
        deltaMtlPerSeed: per,
      },
    ];
  });
}

/** The table as Markdown: the paper's columns (means over seeds), then the seeds and ΔMTL's spread. */
export function ablationMarkdown(rows: readonly AblationRow[], base: TrainConfig): string {
  const table = formatTable(
    rows.map((r) => ({ name: r.label, scores: r.scores, deltaMtl: r.deltaMtl })),
    protocolOf(base),
  );
  const spread = [
    `Row | seeds | ΔMTL per seed (baseline: against seed ${rows[0]?.seeds[0] ?? 0}'s baseline) | ΔMTL std`,
    '----|-------|---------------|---------',
    ...rows.map(
      (r) =>
        `${r.label} | ${r.seeds.join(', ')} | ${r.deltaMtlPerSeed.map((d) => d.toFixed(2)).join(', ')} | ${
          r.deltaMtlStd === null ? '–' : r.deltaMtlStd.toFixed(2)
        }`,
    ),
  ].join('\n');
  return `${table}\n\n${spread}\n`;
}

/**
 * Trains the ablation rows (`options.rows`, default every row) under the same data, steps, schedule and
 * seeds as `base` (each run in `<dir>/<variant>-seed<s>`; finished runs are reused, unfinished ones
 * resumed, a run configured otherwise is an error), and writes `ablation.md` and `ablation.json` in
 * `dir`. ΔMTL of a run is measured against the baseline of its seed.
 */
export async function runAblation(
  base: TrainConfig,
  seeds: readonly number[],
  dir: string,
  options: { rows?: readonly AblationVariant[]; log?: (line: string) => void } = {},
): Promise<{ rows: AblationRow[]; runs: AblationRun[]; markdown: string }> {
  const { rows: variants = ABLATION_VARIANTS, log = console.log } = options;
  if (seeds.length === 0) throw new Error('ablation: give at least one seed');
  if (!variants.some((v) => v.key === 'baseline'))
    throw new Error('ablation: the rows must include the baseline');
  mkdirSync(dir, { recursive: true });
  const runs: AblationRun[] = [];
  const baselines = new Map<number, TaskScores>();
  const plan = variants.flatMap((v) => (v.allSeeds ? seeds : seeds.slice(0, 1)).map((seed) => ({ v, seed })));
  // Baselines of every seed first: each later run is compared with the baseline of its seed.
  plan.sort((a, b) => Number(b.v.key === 'baseline') - Number(a.v.key === 'baseline'));
  const started = performance.now();
  for (const { v, seed } of plan) {
    const config: TrainConfig = {
      ...base,
      ...v.changes,
      seed,
      baseline: 'off',
      runDir: join(dir, `${v.key}-seed${seed}`),
    };
    if (existsSync(join(config.runDir, RUN_FILES.config))) checkSameRun(config.runDir, config);
    const t0 = performance.now();
    let scores = finishedScores(config.runDir, config.steps);
    if (scores) {
      log(`== ${v.label}, seed ${seed}: finished earlier (${config.runDir})`);
    } else {
      const resume = existsSync(join(config.runDir, RUN_FILES.config));
      log(`== ${v.label}, seed ${seed}${resume ? ' (resumed)' : ''} -> ${config.runDir}`);
      const reference = v.key === 'baseline' ? null : (baselines.get(seed) ?? null);
      scores = (await trainRun(config, { resume, baseline: reference, label: `${v.label} s${seed}` })).scores;
    }
    if (v.key === 'baseline') baselines.set(seed, scores);
    const reference = baselines.get(v.key === 'baseline' ? seeds[0] : seed) as TaskScores;
    runs.push({
      variant: v.key,
      seed,
      runDir: config.runDir,
      scores,
      deltaMtl: deltaMtl(scores, reference),
      seconds: (performance.now() - t0) / 1000,
    });
  }
  const rows = ablationRows(runs);
  const markdown = ablationMarkdown(rows, base);
  const seconds = (performance.now() - started) / 1000;
  const json = { config: base, seeds, seconds, rows, runs };
  await writeFileAtomic(
    join(dir, 'ablation.json'),
    new TextEncoder().encode(`${JSON.stringify(json, null, 2)}\n`),
  );
  await writeFileAtomic(join(dir, 'ablation.md'), new TextEncoder().encode(markdown));
  log(`ablation: ${runs.length} runs in ${(seconds / 60).toFixed(1)} min; wrote ${join(dir, 'ablation.md')}`);
  return { rows, runs, markdown };
}
