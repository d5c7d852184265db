// Training differentiates through every op kind: the tfjs package registers every gradient (tfjs-core's
// Node bundle has none, and its ESM files do not load in Node).
import '@tensorflow/tfjs';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { splitMultiViewBatch } from '@cvm/cvm-module';
import type { Batch, DataLoader } from '@cvm/datasets/node';
import { batchToTensors, disposeBatchTensors } from '@cvm/datasets/tfjs';
import { deltaMtl, type TaskScores } from '@cvm/metrics';
import { Trainer, trainingStateBytes } from '@cvm/mtl-heads';
import { writeFileAtomic } from '@cvm/nn/node';
import * as tf from '@tensorflow/tfjs-core';
import { writeArtifacts } from './artifacts.js';
import { fitBackendToModel } from './backend.js';
import {
  type CheckpointState,
  listCheckpoints,
  loadCheckpointInto,
  removePartialCheckpoints,
  saveCheckpoint,
} from './checkpoint.js';
import type { TrainConfig } from './config.js';
import { trainLoader, valLoader } from './data.js';
import { evaluateModel } from './evaluate.js';
import { appendMetrics, readMetrics, truncateMetrics, type ValRecord } from './metrics-log.js';
import { buildModel } from './model.js';
import { Progress } from './progress.js';

/** How a run is driven. */
export interface RunOptions {
  /** Continue from the run directory's last checkpoint. */
  resume: boolean;
  /** Scores ΔMTL is measured against (the baseline's final scores), when known. */
  baseline?: TaskScores | null;
  /** Row name in logs and tables. */
  label: string;
  /** Test hook: SIGKILL the process right after this step (before its checkpoint). */
  killAtStep?: number;
  /** Called after every step once its evaluation and checkpoint are done (e.g. the soak's memory probe). */
  onStep?: (step: number) => void;
}

/** What a finished run reports. */
export interface RunResult {
  runDir: string;
  config: TrainConfig;
  label: string;
  step: number;
  scores: Record<string, number>;
  deltaMtl?: number;
  /** Training throughput of this session (steps after the first, which includes warm-up). */
  stepsPerSecond: number;
  samplesPerSecond: number;
}

export const RUN_FILES = { config: 'config.json', metrics: 'metrics.jsonl', report: 'report.html' } as const;

function finite(scores: Record<string, number | undefined>): Record<string, number> {
  return Object.fromEntries(Object.entries(scores).filter(([, v]) => Number.isFinite(v))) as Record<
    string,
    number
  >;
}

/** The run's train and val loaders; the first is closed again when the second cannot be opened. */
async function openLoaders(config: TrainConfig): Promise<{ train: DataLoader; val: DataLoader }> {
  const train = trainLoader(config);
  try {
    return { train, val: valLoader(config) };
  } catch (e) {
    await train.close();
    throw e;
  }
}

/**
 * A run's steps and samples per second: over the steps after the first (whose time includes warm-up:
 * kernel setup, first allocations), or over the first when the run trained only one.
 */
export function runThroughput(
  timed: { steps: number; seconds: number; firstStepSeconds: number },
  batch: number,
): { stepsPerSecond: number; samplesPerSecond: number } {
  const [steps, seconds] =
    timed.steps > 0
      ? [timed.steps, timed.seconds]
      : [timed.firstStepSeconds > 0 ? 1 : 0, timed.firstStepSeconds];
  const perSecond = steps / Math.max(seconds, 1e-9);
  return { stepsPerSecond: perSecond, samplesPerSecond: perSecond * batch };
}

/**
 * Trains one model as `config` says, evaluating every `evalEvery` steps and at the end, writing the run
 * directory (config, checkpoints, metrics.jsonl, plots, prediction images, report.html).
 */
export async function trainRun(config: TrainConfig, options: RunOptions): Promise<RunResult> {
  const dir = resolve(config.runDir);
  const metricsPath = join(dir, RUN_FILES.metrics);
  if (!options.resume && (listCheckpoints(dir).length > 0 || existsSync(metricsPath)))
    throw new Error(
      `run directory '${dir}' already holds a run: continue it with --resume ${config.runDir}, or pick another --run-dir`,
    );
  // The model, the trainer and the loaders come first: a run refused by any of them (a checkpoint of
  // another architecture, a state too large for the backend, a missing dataset) leaves nothing on disk.
  const model = await buildModel(config);
  let trainer: Trainer;
  try {
    await fitBackendToModel(config.backend, trainingStateBytes(model).bytes);
    // Refuses up front a model whose training state cannot fit the backend (wasm32's 4 GiB).
    trainer = new Trainer(model, {
      lr: config.lr,
      totalIterations: config.steps,
      power: config.lrPower,
      maxGradNorm: config.gradClip,
      weightDecay: config.weightDecay,
      checkpointActivations: config.checkpointActivations,
    });
  } catch (e) {
    model.dispose();
    throw e;
  }
  const { train, val } = await openLoaders(config).catch((e) => {
    trainer.dispose();
    model.dispose();
    throw e;
  });
  try {
    mkdirSync(join(dir, 'checkpoints'), { recursive: true });
    await writeFileAtomic(
      join(dir, RUN_FILES.config),
      new TextEncoder().encode(`${JSON.stringify(config, null, 2)}\n`),
    );
    let start: CheckpointState | undefined;
    if (options.resume) {
      removePartialCheckpoints(dir);
      const last = listCheckpoints(dir).at(-1);
      if (last) start = await loadCheckpointInto(last, model, trainer);
      await truncateMetrics(metricsPath, start?.step ?? 0);
    }
    const batchesPerEpoch = train.length;
    if (batchesPerEpoch === 0)
      throw new Error(
        `the training split has ${train.samples} samples, fewer than one batch of ${config.batch}`,
      );
    let step = start?.step ?? 0;
    let bestSelection = start?.bestSelection ?? Number.NEGATIVE_INFINITY;
    const firstVal = () => readMetrics(metricsPath).find((r): r is ValRecord => r.kind === 'val');
    const progress = new Progress(options.label, step, config.steps, config.logEvery);
    let trainedSteps = 0;
    let trainedSeconds = 0;
    let firstStepSeconds = 0;
    let last = performance.now();

    const evaluateNow = async (): Promise<ValRecord> => {
      const t0 = performance.now();
      const { result, samples, seen } = await evaluateModel(model, val, {
        limit: config.valSamples,
        keep: config.predictionSamples,
      });
      const scores = finite(result.scores);
      const record: ValRecord = {
        kind: 'val',
        step,
        scores,
        samples: seen,
        seconds: (performance.now() - t0) / 1000,
      };
      if (options.baseline) record.deltaMtl = deltaMtl(scores, options.baseline);
      appendMetrics(metricsPath, record);
      await writeArtifacts(dir, config, readMetrics(metricsPath), samples, options.label);
      progress.log(
        `${options.label} val @${step}: ${Object.entries(scores)
          .map(([k, v]) => `${k} ${v.toFixed(k === 'depth' ? 4 : 2)}`)
          .join(', ')}${record.deltaMtl !== undefined ? `, ΔMTL ${record.deltaMtl.toFixed(2)}` : ''}`,
      );
      return record;
    };

    while (step < config.steps) {
      const epoch = Math.floor(step / batchesPerEpoch);
      const fromBatch = step % batchesPerEpoch;
      for await (const batch of train.epoch(epoch, { fromBatch }) as AsyncGenerator<Batch>) {
        const t = batchToTensors(batch);
        let report: Awaited<ReturnType<Trainer['step']>>;
        try {
          const { images, cameras } = splitMultiViewBatch(t);
          try {
            report = await trainer.step({
              images,
              cameras: images.length > 1 ? cameras : null,
              labels: t.labels,
            });
          } finally {
            tf.dispose(images);
          }
        } finally {
          disposeBatchTensors(t);
        }
        step = report.iteration;
        const now = performance.now();
        const seconds = (now - last) / 1000;
        last = now;
        if (step > (start?.step ?? 0) + 1) {
          trainedSteps++;
          trainedSeconds += seconds;
        } else firstStepSeconds = seconds;
        const samplesPerSecond = batch.size / seconds;
        appendMetrics(metricsPath, {
          kind: 'train',
          step,
          epoch,
          lr: report.lr,
          total: report.total,
          losses: report.losses as Record<string, number>,
          gradNorm: report.gradNorm,
          seconds,
          samplesPerSecond,
        });
        progress.update({
          step,
          total: config.steps,
          losses: report.losses as Record<string, number>,
          samplesPerSecond,
          lr: report.lr,
        });
        if (options.killAtStep === step) process.kill(process.pid, 'SIGKILL');
        let record: ValRecord | undefined;
        if (step === config.steps || (config.evalEvery > 0 && step % config.evalEvery === 0)) {
          record = await evaluateNow();
        }
        if (step === config.steps || step % config.checkpointEvery === 0) {
          let val: CheckpointState['val'];
          let isBest = false;
          if (record) {
            const reference = options.baseline ?? firstVal()?.scores ?? record.scores;
            const selection = deltaMtl(record.scores, reference);
            val = { scores: record.scores, deltaMtl: record.deltaMtl, selection };
            isBest = selection > bestSelection;
            if (isBest) bestSelection = selection;
          }
          await saveCheckpoint(
            dir,
            config,
            model,
            trainer,
            {
              step,
              data: {
                seed: config.seed,
                epoch: Math.floor(step / batchesPerEpoch),
                batchInEpoch: step % batchesPerEpoch,
                batchesPerEpoch,
              },
              val,
              bestSelection,
              baseline: options.baseline ? finite(options.baseline) : null,
              savedAt: new Date().toISOString(),
            },
            isBest,
          );
        }
        options.onStep?.(step);
        last = performance.now();
        if (step >= config.steps) break;
      }
    }
    progress.stop();
    const final = [...readMetrics(metricsPath)]
      .reverse()
      .find((r): r is ValRecord => r.kind === 'val' && r.step === step);
    const record = final ?? (await evaluateNow());
    return {
      runDir: dir,
      config,
      label: options.label,
      step,
      scores: record.scores,
      deltaMtl: record.deltaMtl,
      ...runThroughput({ steps: trainedSteps, seconds: trainedSeconds, firstStepSeconds }, config.batch),
    };
  } finally {
    await train.close();
    await val.close();
    trainer.dispose();
    model.dispose();
  }
}
