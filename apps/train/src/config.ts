import { existsSync, readFileSync } from 'node:fs';
import { KNOWN_BACKENDS } from '@cvm/backend';
import { listEncoders } from '@cvm/encoders';
import { checkDepthRange } from '@cvm/geometry';
import { DATASET_TASKS, type TaskName } from '@cvm/metrics';

/** Where the samples come from: the embedded synthetic world, or an NYUD-MT / PASCAL-MT folder. */
export type DatasetKind = 'synthetic' | 'nyud' | 'pascal';

/** The CvM variants of the command line (the paper's Tab. A15 rows); `none` is the MTL baseline. */
export const CVM_MODES = ['none', 'full', 'noCostVolume', 'noCrossViewFeatures', 'selfAttention'] as const;
export type CvmModeName = (typeof CVM_MODES)[number];

/** Named CvM sizes: the paper's (4.93 M parameters) and small ones that train on a CPU. */
export const CVM_SIZES = ['paper', 'small', 'tiny'] as const;
export type CvmSize = (typeof CVM_SIZES)[number];

/** Everything a run is made of; `config.json` in the run directory holds it resolved. */
export interface TrainConfig {
  dataset: DatasetKind;
  /** Folder of the NYUD-MT / PASCAL-MT dataset (required for those). */
  dataRoot: string | null;
  trainSplit: string;
  valSplit: string;
  /** Views per sample, the reference included (1 = the paper's single-view setting). */
  views: number;
  /**
   * Training images: the clips' reference frames (`reference`), or every frame of every clip as its own
   * single-view sample (`all`: the baseline "trained on multi-view data" of Tab. A11; synthetic only).
   */
  trainFrames: 'reference' | 'all';
  /** Training size [H, W] (crop and pad target). */
  size: [number, number];
  /** Synthetic world: seed, number of train and val scenes. */
  worldSeed: number;
  trainScenes: number;
  valScenes: number;
  /**
   * Synthetic world: the neighbours' camera centres moved this many times as far from the reference's
   * (`SyntheticWorld.sample`'s `baselineScale`), for training, validation and prediction samples alike.
   * 1 = the clips' own handheld motion; larger baselines give the cost volume more parallax.
   */
  baselineScale: number;
  /** Encoder preset of `@cvm/encoders` and an optional checkpoint for it. */
  encoder: string;
  encoderWeights: string | null;
  /** Override of the preset's embedding width (a narrower encoder trained from scratch); null = the preset's. */
  encoderDim: number | null;
  /** 1-based ViT blocks whose outputs feed the heads (null = the preset's). */
  encoderLayers: number[] | null;
  cvm: CvmModeName;
  cvmSize: CvmSize;
  /** Inverse-depth candidates of the cost volume (null = the size's default). */
  depthCandidates: number | null;
  /**
   * Near and far end (metres) of the cost volume's candidates, uniform in inverse depth between them.
   * The default 0.5–10 m is UniMatch's indoor range (GMDepth on ScanNet); candidates nearer than every
   * pixel of the scenes are wasted, so a range fitted to the data spends them where the depths are.
   */
  depthRange: [number, number];
  /** Tasks of the run (one task = single-task learning); null = every task of the dataset. */
  tasks: TaskName[] | null;
  steps: number;
  batch: number;
  lr: number;
  weightDecay: number;
  /** Power of the per-iteration polynomial decay. */
  lrPower: number;
  gradClip: number;
  /** Recompute activations in the backward pass instead of keeping them (`Trainer`'s `checkpointActivations`). */
  checkpointActivations: boolean;
  seed: number;
  /** `auto` picks the fastest available backend (`@cvm/backend`'s `selectBackend`). */
  backend: string;
  /** The protocol's augmentation (random scale, crop, flip, photometric) or none. */
  augment: 'protocol' | 'none';
  /** Padding colour: black, or the ImageNet mean (the reference pads after normalising). */
  padColor: 'black' | 'imagenet';
  /** Evaluate every this many steps (and at the end); 0 = only at the end. */
  evalEvery: number;
  /** Val samples per evaluation (0 = the whole split). */
  valSamples: number;
  /** Save a checkpoint every this many steps (and at the end). */
  checkpointEvery: number;
  /** Checkpoints kept besides the best. */
  keepLast: number;
  /** Fixed val samples drawn as prediction images at each evaluation. */
  predictionSamples: number;
  /** Print a plain progress line every this many steps (off a TTY). */
  logEvery: number;
  /** Loader worker threads (0 = the training thread renders samples). */
  workers: number;
  /** ΔMTL baseline: `train` a run without CvM beside this one, `off`, or the path of a finished run. */
  baseline: string;
  runDir: string;
}

/**
 * Values every preset starts from: the embedded default, sized so that the baseline and the CvM model
 * together train in about 10 minutes on 2 CPU cores with the backend `auto` picks here (threaded wasm).
 */
export const DEFAULTS: TrainConfig = {
  dataset: 'synthetic',
  dataRoot: null,
  trainSplit: 'train',
  valSplit: 'val',
  views: 2,
  trainFrames: 'reference',
  size: [64, 96],
  worldSeed: 0,
  trainScenes: 1000,
  valScenes: 32,
  baselineScale: 1,
  encoder: 'vit_nano_p8',
  encoderWeights: null,
  encoderDim: null,
  encoderLayers: null,
  cvm: 'full',
  cvmSize: 'small',
  depthCandidates: null,
  depthRange: [0.5, 10],
  tasks: null,
  steps: 300,
  batch: 4,
  lr: 1e-3,
  weightDecay: 1e-6,
  lrPower: 0.9,
  gradClip: 10,
  checkpointActivations: false,
  seed: 0,
  backend: 'auto',
  augment: 'protocol',
  padColor: 'black',
  evalEvery: 100,
  valSamples: 0,
  checkpointEvery: 100,
  keepLast: 2,
  predictionSamples: 3,
  logEvery: 20,
  workers: 1,
  baseline: 'train',
  runDir: 'runs/default',
};

/** The paper's optimisation protocol (supplementary §A6.1, SAK stage 2). */
const PAPER_PROTOCOL: Partial<TrainConfig> = {
  views: 2,
  encoder: 'dinov3_vitl16',
  encoderDim: null,
  encoderLayers: [5, 12, 18, 24],
  cvm: 'full',
  cvmSize: 'paper',
  // The paper states 0.0001–10 m (supplementary §A6.1), which puts all but the farthest planes nearer
  // than 1.3 cm, outside the neighbour at indoor baselines; UniMatch's indoor 0.5–10 m covers NYUD's
  // depths (≤ 10 m). `--depth-range 0.0001,10` reproduces the stated range.
  depthRange: [0.5, 10],
  steps: 40_000,
  batch: 4,
  lr: 2e-5,
  weightDecay: 1e-6,
  lrPower: 0.9,
  gradClip: 10,
  augment: 'protocol',
  padColor: 'imagenet',
  evalEvery: 5000,
  checkpointEvery: 1000,
  logEvery: 50,
  valSamples: 0,
  workers: 2,
};

/** Named presets; each overrides `DEFAULTS`. */
export const PRESETS: Readonly<Record<string, { description: string; values: Partial<TrainConfig> }>> = {
  default: {
    description:
      'the embedded synthetic world, vit_nano_p8 + a small CvM, 2 views at 64×96, batch 4, 300 steps; CvM and a baseline without it',
    values: {},
  },
  tiny: {
    description: 'a few steps at 32×48 on a handful of scenes (tests, smoke runs)',
    values: {
      size: [32, 48],
      encoderDim: 32,
      trainScenes: 8,
      valScenes: 2,
      cvmSize: 'tiny',
      steps: 4,
      batch: 1,
      evalEvery: 2,
      checkpointEvery: 2,
      predictionSamples: 1,
      logEvery: 1,
      workers: 0,
      runDir: 'runs/tiny',
    },
  },
  'paper-nyud': {
    description: "the paper's NYUD-v2 protocol: 448×576, ViT-L blocks 5/12/18/24, AdamW 2e-5, 40k steps",
    values: { ...PAPER_PROTOCOL, dataset: 'nyud', size: [448, 576], runDir: 'runs/paper-nyud' },
  },
  'paper-pascal': {
    description:
      "the paper's PASCAL-Context protocol: 512×512, single view (no video), ViT-L blocks 5/12/18/24, AdamW 2e-5, 40k steps",
    values: {
      ...PAPER_PROTOCOL,
      dataset: 'pascal',
      size: [512, 512],
      views: 1,
      runDir: 'runs/paper-pascal',
    },
  },
};

type Parser = (raw: string, flag: string) => unknown;

/** One command-line option: its flag, the config key it sets, how to read it, and its help line. */
export interface OptionSpec {
  flag: string;
  key: keyof TrainConfig;
  help: string;
  parse: Parser;
}

function fail(flag: string, message: string): never {
  throw new Error(`--${flag}: ${message}`);
}

const integer =
  (min: number): Parser =>
  (raw, flag) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) fail(flag, `expected an integer >= ${min}, got '${raw}'`);
    return n;
  };
const positive: Parser = (raw, flag) => {
  const n = Number(raw);
  if (!(n > 0) || !Number.isFinite(n)) fail(flag, `expected a positive number, got '${raw}'`);
  return n;
};
const nonNegative: Parser = (raw, flag) => {
  const n = Number(raw);
  if (!(n >= 0) || !Number.isFinite(n)) fail(flag, `expected a number >= 0, got '${raw}'`);
  return n;
};
const oneOf =
  (values: readonly string[]): Parser =>
  (raw, flag) => {
    if (!values.includes(raw)) fail(flag, `expected one of ${values.join(', ')}, got '${raw}'`);
    return raw;
  };
const text: Parser = (raw) => raw;
// 'true' / 'false' too: a config file's JSON booleans reach the parser as text.
const onOff: Parser = (raw, flag) => {
  if (!['on', 'off', 'true', 'false'].includes(raw)) fail(flag, `expected on or off, got '${raw}'`);
  return raw === 'on' || raw === 'true';
};
const nullableText: Parser = (raw) => (raw === '' || raw === 'none' ? null : raw);
const sizeParser: Parser = (raw, flag) => {
  const m = /^(\d+)[x×,](\d+)$/.exec(raw);
  if (!m) fail(flag, `expected HxW (e.g. 64x96), got '${raw}'`);
  return [Number(m[1]), Number(m[2])];
};
const depthRangeParser: Parser = (raw, flag) => {
  const v = raw.split(',').map((t) => (t.trim() === '' ? Number.NaN : Number(t)));
  if (v.length !== 2) fail(flag, `expected <near>,<far> in metres (e.g. 0.5,10), got '${raw}'`);
  try {
    checkDepthRange(v[0], v[1], 1);
  } catch (e) {
    fail(flag, `${(e as Error).message} (from '${raw}')`);
  }
  return v;
};
const layers: Parser = (raw, flag) => {
  if (raw === 'preset') return null;
  const v = raw.split(',').map(Number);
  if (v.length !== 4 || v.some((n) => !Number.isInteger(n) || n < 1))
    fail(flag, `expected four 1-based block numbers (e.g. 5,12,18,24) or 'preset', got '${raw}'`);
  return v;
};
const taskList: Parser = (raw, flag) => {
  if (raw === 'all') return null;
  const v = raw.split(',').filter(Boolean);
  const known = [...new Set(Object.values(DATASET_TASKS).flat())];
  for (const t of v)
    if (!known.includes(t as TaskName)) fail(flag, `unknown task '${t}' (${known.join(', ')})`);
  return v;
};

/** Every option, in `--help` order. */
export const OPTIONS: readonly OptionSpec[] = [
  {
    flag: 'dataset',
    key: 'dataset',
    help: 'synthetic | nyud | pascal',
    parse: oneOf(['synthetic', 'nyud', 'pascal']),
  },
  {
    flag: 'data-root',
    key: 'dataRoot',
    help: 'folder of the NYUD-MT / PASCAL-MT dataset',
    parse: nullableText,
  },
  { flag: 'train-split', key: 'trainSplit', help: 'split file name of the training set', parse: text },
  { flag: 'val-split', key: 'valSplit', help: 'split file name of the validation set', parse: text },
  {
    flag: 'views',
    key: 'views',
    help: 'views per sample, reference included (1 = single view)',
    parse: integer(1),
  },
  {
    flag: 'train-frames',
    key: 'trainFrames',
    help: "reference | all (every view of a clip as a single-view sample: 'MTL trained on multi-view data')",
    parse: oneOf(['reference', 'all']),
  },
  { flag: 'size', key: 'size', help: 'training size HxW (e.g. 64x96)', parse: sizeParser },
  { flag: 'world-seed', key: 'worldSeed', help: 'seed of the synthetic world', parse: integer(0) },
  { flag: 'train-scenes', key: 'trainScenes', help: 'synthetic training scenes', parse: integer(1) },
  { flag: 'val-scenes', key: 'valScenes', help: 'synthetic validation scenes', parse: integer(1) },
  {
    flag: 'baseline-scale',
    key: 'baselineScale',
    help: 'synthetic world: neighbour cameras this many times as far from the reference (wider baselines)',
    parse: positive,
  },
  { flag: 'encoder', key: 'encoder', help: `encoder preset (${listEncoders().join(', ')})`, parse: text },
  {
    flag: 'encoder-weights',
    key: 'encoderWeights',
    help: 'encoder checkpoint (.safetensors, .pth, .pth.tar; any naming @cvm/encoders reads)',
    parse: nullableText,
  },
  {
    flag: 'encoder-dim',
    key: 'encoderDim',
    help: "override the preset's embedding width (multiple of 4 and of its heads)",
    parse: (raw, flag) => (raw === 'preset' ? null : integer(4)(raw, flag)),
  },
  {
    flag: 'encoder-layers',
    key: 'encoderLayers',
    help: "1-based blocks for the heads, e.g. 5,12,18,24, or 'preset'",
    parse: layers,
  },
  { flag: 'cvm', key: 'cvm', help: CVM_MODES.join(' | '), parse: oneOf(CVM_MODES) },
  { flag: 'cvm-size', key: 'cvmSize', help: CVM_SIZES.join(' | '), parse: oneOf(CVM_SIZES) },
  {
    flag: 'depth-candidates',
    key: 'depthCandidates',
    help: 'cost-volume depth candidates L',
    parse: integer(2),
  },
  {
    flag: 'depth-range',
    key: 'depthRange',
    help: 'near,far (metres) of the cost-volume candidates, uniform in inverse depth',
    parse: depthRangeParser,
  },
  {
    flag: 'tasks',
    key: 'tasks',
    help: "comma-separated tasks or 'all' (one task = single-task learning)",
    parse: taskList,
  },
  { flag: 'steps', key: 'steps', help: 'training iterations', parse: integer(1) },
  { flag: 'batch', key: 'batch', help: 'batch size', parse: integer(1) },
  { flag: 'lr', key: 'lr', help: 'base learning rate (AdamW)', parse: positive },
  { flag: 'weight-decay', key: 'weightDecay', help: 'AdamW decoupled weight decay', parse: nonNegative },
  {
    flag: 'lr-power',
    key: 'lrPower',
    help: 'power of the polynomial decay per iteration',
    parse: nonNegative,
  },
  { flag: 'grad-clip', key: 'gradClip', help: 'global gradient-norm clip', parse: positive },
  {
    flag: 'checkpoint-activations',
    key: 'checkpointActivations',
    help: 'on | off: recompute activations in the backward pass (same gradients, far less memory)',
    parse: onOff,
  },
  { flag: 'seed', key: 'seed', help: 'seed of the weights, data order and augmentation', parse: integer(0) },
  {
    flag: 'backend',
    key: 'backend',
    help: `auto | ${KNOWN_BACKENDS.join(' | ')}`,
    parse: oneOf(['auto', ...KNOWN_BACKENDS]),
  },
  { flag: 'augment', key: 'augment', help: 'protocol | none', parse: oneOf(['protocol', 'none']) },
  {
    flag: 'pad-color',
    key: 'padColor',
    help: 'black | imagenet (the reference pads with the mean)',
    parse: oneOf(['black', 'imagenet']),
  },
  {
    flag: 'eval-every',
    key: 'evalEvery',
    help: 'evaluate every N steps (0 = at the end only)',
    parse: integer(0),
  },
  { flag: 'val-samples', key: 'valSamples', help: 'val samples per evaluation (0 = all)', parse: integer(0) },
  { flag: 'checkpoint-every', key: 'checkpointEvery', help: 'checkpoint every N steps', parse: integer(1) },
  { flag: 'keep-last', key: 'keepLast', help: 'checkpoints kept besides the best', parse: integer(1) },
  {
    flag: 'prediction-samples',
    key: 'predictionSamples',
    help: 'val samples drawn at each evaluation',
    parse: integer(0),
  },
  {
    flag: 'log-every',
    key: 'logEvery',
    help: 'plain progress line every N steps (off a TTY)',
    parse: integer(1),
  },
  { flag: 'workers', key: 'workers', help: 'data-loader worker threads', parse: integer(0) },
  {
    flag: 'baseline',
    key: 'baseline',
    help: "ΔMTL baseline: 'train' (a run without CvM), 'off', or a run directory",
    parse: text,
  },
  { flag: 'run-dir', key: 'runDir', help: 'where the run is written', parse: text },
];

/** Options a run may change when it is resumed or reused (they do not change the numbers). */
export const RESUMABLE: ReadonlySet<keyof TrainConfig> = new Set<keyof TrainConfig>([
  'backend',
  'workers',
  'logEvery',
]);

/** Options whose value may be null (the preset's or the dataset's own). */
const NULLABLE = new Set<keyof TrainConfig>([
  'dataRoot',
  'encoderWeights',
  'encoderDim',
  'encoderLayers',
  'depthCandidates',
  'tasks',
]);

/** Reads a `--config` JSON file: an object of `TrainConfig` keys (camelCase) or flag names. */
export function readConfigFile(path: string): Partial<TrainConfig> {
  if (!existsSync(path)) throw new Error(`--config: no such file '${path}'`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`--config: '${path}' is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new Error(`--config: '${path}' must hold a JSON object`);
  const out: Partial<TrainConfig> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (k === 'preset') continue;
    const spec = OPTIONS.find((o) => o.key === k || o.flag === k);
    if (!spec) throw new Error(`--config: '${path}' has unknown key '${k}' (see --help for the options)`);
    // Values go through the flag's parser so that files and flags accept the same things.
    if (v === null) {
      if (!NULLABLE.has(spec.key)) throw new Error(`--config: '${path}': '${k}' cannot be null`);
      (out as Record<string, unknown>)[spec.key] = null;
      continue;
    }
    const asText = Array.isArray(v) ? v.join(spec.key === 'size' ? 'x' : ',') : String(v);
    (out as Record<string, unknown>)[spec.key] = spec.parse(asText, spec.flag);
  }
  return out;
}

/** The preset a config file names (`"preset": "..."`), if any. */
export function configFilePreset(path: string): string | undefined {
  const raw = JSON.parse(readFileSync(path, 'utf8')) as { preset?: unknown };
  return typeof raw.preset === 'string' ? raw.preset : undefined;
}

/** The preset's values, or an error listing the known presets. */
export function presetValues(name: string): Partial<TrainConfig> {
  const p = PRESETS[name];
  if (!p) throw new Error(`unknown preset '${name}' (known: ${Object.keys(PRESETS).join(', ')})`);
  return p.values;
}

/**
 * Resolves a run's configuration: `DEFAULTS` ← preset ← config file ← flags, then checks the result.
 * @param flags option values already parsed (by `OPTIONS`)
 */
export function resolveConfig(
  preset: string,
  file: Partial<TrainConfig>,
  flags: Partial<TrainConfig>,
): TrainConfig {
  const config = { ...DEFAULTS, ...presetValues(preset), ...file, ...flags } as TrainConfig;
  checkConfig(config);
  return config;
}

/** Checks what single options cannot: combinations, dataset folders, the encoder name. */
export function checkConfig(c: TrainConfig): void {
  if (c.dataset !== 'synthetic') {
    if (!c.dataRoot) throw new Error(`--dataset ${c.dataset} needs --data-root <folder>`);
    if (!existsSync(c.dataRoot))
      throw new Error(`--data-root: dataset folder '${c.dataRoot}' does not exist`);
  }
  if (c.dataset !== 'synthetic' && c.baselineScale !== 1)
    throw new Error(
      `--baseline-scale moves the synthetic world's cameras: it has no meaning for --dataset ${c.dataset}`,
    );
  if (c.dataset === 'pascal' && c.views !== 1)
    throw new Error(
      "--dataset pascal has no multi-view frames: use --views 1 (the paper's single-view setting)",
    );
  if (!listEncoders().includes(c.encoder))
    throw new Error(`--encoder: unknown encoder '${c.encoder}' (known: ${listEncoders().join(', ')})`);
  if (c.encoderWeights && c.encoderDim !== null)
    throw new Error('--encoder-dim changes the architecture: it cannot be combined with --encoder-weights');
  if (c.encoderWeights && !existsSync(c.encoderWeights))
    throw new Error(`--encoder-weights: no such file '${c.encoderWeights}'`);
  const protocol = c.dataset === 'pascal' ? 'pascal' : 'nyud';
  for (const t of c.tasks ?? [])
    if (!DATASET_TASKS[protocol].includes(t))
      throw new Error(`--tasks: '${t}' is not a ${c.dataset} task (${DATASET_TASKS[protocol].join(', ')})`);
  if (c.trainFrames === 'all') {
    if (c.dataset !== 'synthetic')
      throw new Error('--train-frames all: only the synthetic world labels every frame');
    if (c.cvm !== 'none')
      throw new Error(
        '--train-frames all trains on single frames (the multi-view-data baseline): it needs --cvm none',
      );
  }
  if (c.dataset === 'synthetic' && c.views > 7)
    throw new Error('--views: the synthetic world has at most 7 views');
  const [h, w] = c.size;
  if (h < 16 || w < 16) throw new Error(`--size: at least 16x16, got ${h}x${w}`);
  if (c.baseline !== 'train' && c.baseline !== 'off' && !existsSync(c.baseline))
    throw new Error(`--baseline: expected 'train', 'off' or an existing run directory, got '${c.baseline}'`);
}

/** The `--help` text: commands, presets, and every option with its default. */
export function helpText(): string {
  const unset: Partial<Record<keyof TrainConfig, string>> = {
    tasks: 'all',
    encoderDim: 'preset',
    encoderLayers: 'preset',
    depthCandidates: "the CvM size's",
  };
  const fmt = (k: keyof TrainConfig, v: unknown) =>
    v === null ? (unset[k] ?? 'none') : Array.isArray(v) ? v.join(k === 'size' ? 'x' : ',') : String(v);
  const lines = [
    'Usage: pnpm --filter train start [command] [options]',
    '',
    'Commands:',
    '  train (default)        train (and the baseline), evaluate, print the table',
    '  eval <checkpoint>      evaluate a checkpoint directory (or a run directory: its last checkpoint)',
    '  predict <ckpt> <img…>  predictions of a checkpoint for PNG/JPEG images (--out <dir>): single-view,',
    '                         or one multi-view sample (first = reference) with --cameras <COLMAP folder>',
    '  ablation               the Tab. A11/A15 rows (baseline, multi-view-data baseline, CvM and its',
    '                         ablations, self-attention) under one budget; --seeds 0,1 for the',
    '                         baseline and full CvM, --rows baseline,cvm (default all) picks rows;',
    '                         writes ablation.md/.json (default --run-dir runs/ablation)',
    '  help                   this text',
    '',
    'Configuration: DEFAULTS <- --preset <- --config <file.json> <- flags.',
    '  --preset <name>        one of:',
    ...Object.entries(PRESETS).map(([n, p]) => `      ${n.padEnd(14)} ${p.description}`),
    '  --config <file>        JSON object of options (flag names or camelCase keys; "preset" allowed)',
    '  --resume <run-dir>     continue a run from its last checkpoint (its config.json)',
    "  --split <name>         (eval) split to evaluate; default the run's val split",
    '',
    'Options (default in brackets):',
    ...OPTIONS.map((o) => `  --${o.flag.padEnd(20)} ${o.help} [${fmt(o.key, DEFAULTS[o.key])}]`),
  ];
  return lines.join('\n');
}
