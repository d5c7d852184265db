import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFolderAtomically } from '@cvm/datasets/node';
import type { MultiTaskModel, Trainer } from '@cvm/mtl-heads';
import { loadModuleSafetensors, loadSafetensors, moduleToSafetensors, saveSafetensors } from '@cvm/nn';
import { readFileBytes, writeFileAtomic } from '@cvm/nn/node';
import * as tf from '@tensorflow/tfjs-core';
import type { TrainConfig } from './config.js';

/** The checkpoint files (in `checkpoints/step-NNNNNN/` and `checkpoints/best/`). */
export const CHECKPOINT_FILES = {
  weights: 'model.safetensors',
  optimizer: 'optimizer.safetensors',
  state: 'state.json',
  config: 'config.json',
} as const;

/** Everything besides tensors that a resumed run needs to continue exactly. */
export interface CheckpointState {
  /** Updates done (the schedule's iteration). */
  step: number;
  /** Data order: the loader's seed, and the epoch / batch the next step draws. */
  data: { seed: number; epoch: number; batchInEpoch: number; batchesPerEpoch: number };
  /** Val scores of the evaluation at this step, when there was one. */
  val?: { scores: Record<string, number>; deltaMtl?: number; selection: number };
  /** Best `val.selection` so far (ΔMTL against the baseline, or else against the run's first evaluation). */
  bestSelection: number;
  /** Scores the run's ΔMTL is measured against (the baseline's final scores), when known. */
  baseline?: Record<string, number> | null;
  savedAt: string;
}

export function stepName(step: number): string {
  return `step-${String(step).padStart(6, '0')}`;
}

/** Step directories of `checkpoints/`, oldest first (temporary leftovers of a killed write ignored). */
export function listCheckpoints(runDir: string): string[] {
  const dir = join(runDir, 'checkpoints');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => /^step-\d{6,}$/.test(n))
    .sort()
    .map((n) => join(dir, n));
}

/** Removes temporary folders a killed checkpoint write left (their final names were never written). */
export function removePartialCheckpoints(runDir: string): void {
  const dir = join(runDir, 'checkpoints');
  if (!existsSync(dir)) return;
  for (const n of readdirSync(dir))
    if (n.startsWith('.')) rmSync(join(dir, n), { recursive: true, force: true });
}

/**
 * Writes a checkpoint atomically: every file goes to a temporary sibling folder that is renamed into
 * place at the end, so a crash leaves the previous checkpoints and no torn file. Then keeps the last
 * `keepLast` step checkpoints (and `best/`, replaced atomically when `isBest`).
 */
export async function saveCheckpoint(
  runDir: string,
  config: TrainConfig,
  model: MultiTaskModel,
  trainer: Trainer,
  state: CheckpointState,
  isBest: boolean,
): Promise<string> {
  const weights = await moduleToSafetensors(model, { metadata: { format: 'pt', step: String(state.step) } });
  const optState = trainer.optimizer.stateDict();
  let optimizer: Uint8Array;
  try {
    optimizer = await saveSafetensors(optState, { metadata: { step: String(state.step) } });
  } finally {
    tf.dispose(Object.values(optState));
  }
  const write = async (dir: string) => {
    // In chunks: ViT-L's AdamW moments (2.88 GB) exceed what one Node write call takes.
    await writeFileAtomic(join(dir, CHECKPOINT_FILES.weights), weights);
    await writeFileAtomic(join(dir, CHECKPOINT_FILES.optimizer), optimizer);
    writeFileSync(join(dir, CHECKPOINT_FILES.state), `${JSON.stringify(state, null, 2)}\n`);
    writeFileSync(join(dir, CHECKPOINT_FILES.config), `${JSON.stringify(config, null, 2)}\n`);
  };
  const target = join(runDir, 'checkpoints', stepName(state.step));
  await writeFolderAtomically(target, true, write, 'checkpoint');
  if (isBest) await writeFolderAtomically(join(runDir, 'checkpoints', 'best'), true, write, 'checkpoint');
  const all = listCheckpoints(runDir);
  for (const old of all.slice(0, Math.max(0, all.length - config.keepLast)))
    rmSync(old, { recursive: true, force: true });
  return target;
}

/** Reads a checkpoint's `state.json` and `config.json`, with errors naming the checkpoint. */
export function readCheckpointMeta(dir: string): { state: CheckpointState; config: TrainConfig } {
  if (!existsSync(dir)) throw new Error(`checkpoint '${dir}' does not exist`);
  const read = <T>(file: string): T => {
    const path = join(dir, file);
    if (!existsSync(path)) throw new Error(`checkpoint '${dir}' is incomplete: no ${file}`);
    try {
      return JSON.parse(readFileSync(path, 'utf8')) as T;
    } catch (e) {
      throw new Error(`checkpoint '${dir}' is corrupted: ${file}: ${(e as Error).message}`);
    }
  };
  return {
    state: read<CheckpointState>(CHECKPOINT_FILES.state),
    config: read<TrainConfig>(CHECKPOINT_FILES.config),
  };
}

/**
 * Loads a checkpoint's weights into `model` (strict: every name and shape must match) and, when given,
 * the optimizer state into `trainer`. A checkpoint of another architecture or a damaged file is a clear
 * error naming the checkpoint, and the model is left as it was.
 */
export async function loadCheckpointInto(
  dir: string,
  model: MultiTaskModel,
  trainer?: Trainer,
): Promise<CheckpointState> {
  const { state } = readCheckpointMeta(dir);
  const weightsPath = join(dir, CHECKPOINT_FILES.weights);
  if (!existsSync(weightsPath))
    throw new Error(`checkpoint '${dir}' is incomplete: no ${CHECKPOINT_FILES.weights}`);
  let tensors: Record<string, tf.Tensor>;
  const bytes = await readFileBytes(weightsPath);
  try {
    tensors = loadSafetensors(bytes);
  } catch (e) {
    throw new Error(`checkpoint '${dir}' is corrupted: ${CHECKPOINT_FILES.weights}: ${(e as Error).message}`);
  }
  tf.dispose(Object.values(tensors));
  try {
    loadModuleSafetensors(model, bytes);
  } catch (e) {
    throw new Error(
      `checkpoint '${dir}' does not fit this model (another encoder, CvM mode or size, or tasks?): ${(e as Error).message}`,
    );
  }
  if (trainer) {
    const optPath = join(dir, CHECKPOINT_FILES.optimizer);
    let opt: Record<string, tf.Tensor>;
    try {
      opt = loadSafetensors(await readFileBytes(optPath));
    } catch (e) {
      throw new Error(
        `checkpoint '${dir}' is corrupted: ${CHECKPOINT_FILES.optimizer}: ${(e as Error).message}`,
      );
    }
    try {
      await trainer.optimizer.loadStateDict(opt);
    } finally {
      tf.dispose(Object.values(opt));
    }
    trainer.iteration = state.step;
  }
  return state;
}
