import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { formatTable, type TableRow } from '@cvm/metrics';
import { parseAblationRows, runAblation } from './ablation.js';
import { activateBackend } from './backend.js';
import { listCheckpoints, loadCheckpointInto, readCheckpointMeta } from './checkpoint.js';
import {
  configFilePreset,
  helpText,
  OPTIONS,
  RESUMABLE,
  readConfigFile,
  resolveConfig,
  type TrainConfig,
} from './config.js';
import { valLoader } from './data.js';
import { evaluateModel } from './evaluate.js';
import { buildModel, protocolOf } from './model.js';
import { predictImages } from './predict.js';
import { formatRate } from './progress.js';
import { RUN_FILES, type RunResult, trainRun } from './run.js';

function parse(argv: readonly string[]) {
  const options: Record<string, { type: 'string' | 'boolean' }> = {
    help: { type: 'boolean' },
    preset: { type: 'string' },
    config: { type: 'string' },
    resume: { type: 'string' },
    split: { type: 'string' },
    out: { type: 'string' },
    seeds: { type: 'string' },
    rows: { type: 'string' },
    cameras: { type: 'string' },
  };
  for (const o of OPTIONS) options[o.flag] = { type: 'string' };
  // `pnpm --filter train start -- --help` hands the script a literal `--` (first, or after the command
  // a package script names, as in `ablation -- --seeds 0,1`), which parseArgs would read as "no options
  // after this"; drop it so the flags count.
  const at = argv[0] === '--' ? 0 : argv[1] === '--' && !argv[0].startsWith('-') ? 1 : -1;
  const args = at < 0 ? [...argv] : [...argv.slice(0, at), ...argv.slice(at + 1)];
  const { values, positionals } = parseArgs({
    args,
    options,
    allowPositionals: true,
    strict: true,
  });
  const flags: Partial<TrainConfig> = {};
  for (const o of OPTIONS) {
    const raw = values[o.flag];
    if (typeof raw === 'string') (flags as Record<string, unknown>)[o.key] = o.parse(raw, o.flag);
  }
  return { values: values as Record<string, string | boolean | undefined>, positionals, flags };
}

function row(r: RunResult | { label: string; scores: Record<string, number>; deltaMtl?: number }): TableRow {
  return { name: r.label, scores: r.scores, deltaMtl: r.deltaMtl };
}

function modeLabel(config: TrainConfig): string {
  if (config.cvm !== 'none') return `CvM (${config.cvm})`;
  return config.trainFrames === 'all' ? 'MTL baseline, multi-view data (no CvM)' : 'MTL baseline (no CvM)';
}

/** The configuration a `train` or `ablation` command starts from: preset ← config file ← flags. */
function freshConfig(values: Record<string, string | boolean | undefined>, flags: Partial<TrainConfig>) {
  const file = typeof values.config === 'string' ? readConfigFile(values.config) : {};
  const preset =
    (values.preset as string | undefined) ??
    (typeof values.config === 'string' ? configFilePreset(values.config) : undefined) ??
    'default';
  return resolveConfig(preset, file, flags);
}

/** `ablation`: the Tab. A11/A15 rows under one budget and seeds; prints and writes the table. */
async function ablation(values: Record<string, string | boolean | undefined>, flags: Partial<TrainConfig>) {
  const raw = typeof values.seeds === 'string' ? values.seeds : '0,1';
  const seeds = raw.split(',').map(Number);
  if (
    seeds.length === 0 ||
    seeds.some((s) => !Number.isInteger(s) || s < 0) ||
    new Set(seeds).size !== seeds.length
  )
    throw new Error(`--seeds: expected distinct integers >= 0 separated by commas (e.g. 0,1), got '${raw}'`);
  const rows = parseAblationRows(typeof values.rows === 'string' ? values.rows : 'all');
  const base = freshConfig(values, { ...flags, runDir: flags.runDir ?? 'runs/ablation' });
  await activateBackend(base.backend);
  const { markdown } = await runAblation(base, seeds, base.runDir, { rows });
  console.log('');
  console.log(markdown);
  console.log(
    'ΔMTL of each run is measured against the baseline of its seed (same data, steps and schedule).',
  );
}

/** `train`: the baseline (when asked), then the model; prints the table. */
async function train(
  values: Record<string, string | boolean | undefined>,
  flags: Partial<TrainConfig>,
): Promise<void> {
  let config: TrainConfig;
  const resume = typeof values.resume === 'string';
  if (resume) {
    const dir = values.resume as string;
    const path = join(dir, RUN_FILES.config);
    if (!existsSync(path))
      throw new Error(`--resume: '${dir}' is not a run directory (no ${RUN_FILES.config})`);
    const saved = readConfigFile(path);
    for (const k of Object.keys(flags) as (keyof TrainConfig)[])
      if (!RESUMABLE.has(k) && JSON.stringify(flags[k]) !== JSON.stringify(saved[k]))
        throw new Error(
          `--resume continues the run as configured in ${path}; '${k}' cannot change (only ${[...RESUMABLE].join(', ')})`,
        );
    config = resolveConfig('default', saved, { ...flags, runDir: dir });
  } else {
    config = freshConfig(values, flags);
  }
  await activateBackend(config.backend);
  const killAtStep = process.env.CVM_TRAIN_KILL_AT_STEP
    ? Number(process.env.CVM_TRAIN_KILL_AT_STEP)
    : undefined;
  const rows: RunResult[] = [];
  let baseline: Record<string, number> | null = null;
  if (config.cvm !== 'none' && config.baseline === 'train') {
    const bConfig: TrainConfig = {
      ...config,
      cvm: 'none',
      baseline: 'off',
      runDir: join(config.runDir, 'baseline'),
    };
    const bResume = resume && existsSync(join(bConfig.runDir, RUN_FILES.config));
    console.log(`== ${modeLabel(bConfig)} -> ${resolve(bConfig.runDir)}`);
    const b = await trainRun(bConfig, { resume: bResume, label: modeLabel(bConfig), killAtStep: undefined });
    baseline = b.scores;
    rows.push({ ...b, deltaMtl: 0 });
  } else if (config.baseline !== 'train' && config.baseline !== 'off') {
    baseline = finalScores(config.baseline);
  }
  console.log(`== ${modeLabel(config)} -> ${resolve(config.runDir)}`);
  const main = await trainRun(config, { resume, baseline, label: modeLabel(config), killAtStep });
  rows.push(main);
  console.log('');
  console.log(formatTable(rows.map(row), protocolOf(config)));
  console.log('');
  for (const r of rows)
    console.log(
      `${r.label}: ${formatRate(r.stepsPerSecond)} steps/s, ${formatRate(r.samplesPerSecond)} samples/s; run directory ${r.runDir}`,
    );
  if (baseline) console.log('ΔMTL is measured against the baseline row (same data, steps and seed, no CvM).');
}

/** The last val scores of a finished run directory (a `--baseline <run>`). */
function finalScores(runDir: string): Record<string, number> {
  const last = listCheckpoints(runDir).at(-1);
  if (!last) throw new Error(`--baseline: '${runDir}' has no checkpoint`);
  const { state } = readCheckpointMeta(last);
  if (!state.val) throw new Error(`--baseline: the last checkpoint of '${runDir}' has no evaluation`);
  return state.val.scores;
}

/** `eval <checkpoint | run dir>`: evaluates a checkpoint on a split and prints the table row. */
async function evaluate(
  target: string | undefined,
  values: Record<string, string | boolean | undefined>,
  flags: Partial<TrainConfig>,
) {
  if (!target) throw new Error('eval: name a checkpoint directory or a run directory (eval <path>)');
  if (!existsSync(target)) throw new Error(`eval: '${target}' does not exist`);
  const dir = existsSync(join(target, 'checkpoints')) ? listCheckpoints(target).at(-1) : target;
  if (!dir) throw new Error(`eval: run directory '${target}' has no checkpoint`);
  const { state, config: saved } = readCheckpointMeta(dir);
  const config: TrainConfig = { ...saved, ...flags };
  if (typeof values.split === 'string') config.valSplit = values.split;
  await activateBackend(config.backend);
  const model = await buildModel(config);
  const loader = valLoader(config);
  try {
    await loadCheckpointInto(dir, model);
    const { result, seen } = await evaluateModel(model, loader, {
      limit: config.valSamples,
      baseline: state.baseline ?? undefined,
    });
    console.log(`checkpoint ${dir} (step ${state.step}), ${seen} ${config.valSplit} samples`);
    console.log(
      formatTable(
        [{ name: modeLabel(config), scores: result.scores, deltaMtl: result.deltaMtl }],
        protocolOf(config),
      ),
    );
  } finally {
    await loader.close();
    model.dispose();
  }
}

/**
 * `predict <checkpoint> <image...>`: predictions of a checkpoint, written as PNG panels; single-view per
 * image, or one multi-view sample with `--cameras <COLMAP model folder>`.
 */
async function predict(
  args: string[],
  values: Record<string, string | boolean | undefined>,
  flags: Partial<TrainConfig>,
) {
  const [target, ...images] = args;
  if (!target)
    throw new Error(
      'predict: name a checkpoint (or run) directory and images (predict <checkpoint> <image...>)',
    );
  if (!existsSync(target)) throw new Error(`predict: '${target}' does not exist`);
  for (const i of images) if (!existsSync(i)) throw new Error(`predict: no such image '${i}'`);
  const dir = existsSync(join(target, 'checkpoints')) ? listCheckpoints(target).at(-1) : target;
  if (!dir) throw new Error(`predict: run directory '${target}' has no checkpoint`);
  const { config: saved } = readCheckpointMeta(dir);
  const config: TrainConfig = { ...saved, ...flags };
  await activateBackend(config.backend);
  const model = await buildModel(config);
  try {
    await loadCheckpointInto(dir, model);
    const out = typeof values.out === 'string' ? values.out : 'predictions';
    const cameras = typeof values.cameras === 'string' ? values.cameras : undefined;
    if (cameras && !existsSync(cameras)) throw new Error(`predict --cameras: no such folder '${cameras}'`);
    for (const f of await predictImages(model, config, images, out, { cameras })) console.log(`wrote ${f}`);
  } finally {
    model.dispose();
  }
}

/** Runs the CLI; resolves to the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    const { values, positionals, flags } = parse(argv);
    const command = positionals[0] ?? 'train';
    if (values.help || command === 'help') {
      console.log(helpText());
      return 0;
    }
    switch (command) {
      case 'train':
        await train(values, flags);
        return 0;
      case 'eval':
        await evaluate(positionals[1], values, flags);
        return 0;
      case 'predict':
        await predict(positionals.slice(1), values, flags);
        return 0;
      case 'ablation':
        await ablation(values, flags);
        return 0;
      default:
        throw new Error(`unknown command '${command}' (train, eval, predict, ablation, help)`);
    }
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    if (process.env.CVM_TRAIN_DEBUG) console.error((e as Error).stack);
    return 1;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
