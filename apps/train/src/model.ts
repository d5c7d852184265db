import { type CrossViewModuleConfig, CVM_SIZE_PRESETS } from '@cvm/cvm-module';
import { createEncoder, loadCheckpoint } from '@cvm/encoders';
import { DEPTH_PRESETS } from '@cvm/geometry';
import type { TaskName } from '@cvm/metrics';
import { type CvmVariant, datasetTasks, MultiTaskModel, type TaskDefinition } from '@cvm/mtl-heads';
import { manualSeed } from '@cvm/nn';
import { type CvmModeName, DEFAULTS, type TrainConfig } from './config.js';

/** The CvM configuration of a run: its size, with `depthRange` and `depthCandidates` applied. */
export function cvmConfig(config: TrainConfig): Omit<CrossViewModuleConfig, 'mode'> {
  const base = CVM_SIZE_PRESETS[config.cvmSize];
  const sized = base.depthRange ?? 'indoor';
  const count = config.depthCandidates ?? (typeof sized === 'object' ? sized : DEPTH_PRESETS[sized]).count;
  // A checkpoint saved before `depthRange` was configurable was built with the default range.
  const [near, far] = config.depthRange ?? DEFAULTS.depthRange;
  return { ...base, depthRange: { near, far, count } };
}

/** The model's CvM variant for a command-line mode. */
export function cvmVariant(mode: CvmModeName): CvmVariant {
  return mode === 'selfAttention' ? 'selfAttentionOnly' : mode;
}

/** The protocol whose tasks, classes and metrics a dataset follows (the synthetic world: NYUD's). */
export function protocolOf(config: TrainConfig): 'nyud' | 'pascal' {
  return config.dataset === 'pascal' ? 'pascal' : 'nyud';
}

/** The run's task definitions (all of the protocol's, or the chosen ones in the paper's order). */
export function runTasks(config: TrainConfig): TaskDefinition[] {
  return datasetTasks(protocolOf(config), config.tasks ?? undefined);
}

export function taskNames(config: TrainConfig): TaskName[] {
  return runTasks(config).map((t) => t.name);
}

/**
 * Builds the run's model with seeded initial weights (`manualSeed(seed)` first, so the same seed gives
 * the same weights), loading `encoderWeights` into the encoder when given.
 */
export async function buildModel(config: TrainConfig): Promise<MultiTaskModel> {
  manualSeed(config.seed);
  const overrides = {
    ...(config.encoderLayers ? { outLayers: config.encoderLayers.map((l) => l - 1) } : {}),
    ...(config.encoderDim !== null ? { embedDim: config.encoderDim } : {}),
  };
  const encoder = createEncoder(config.encoder, overrides);
  if (config.encoderWeights) {
    try {
      await loadCheckpoint(encoder, config.encoderWeights);
    } catch (e) {
      encoder.dispose();
      throw new Error(`--encoder-weights ${config.encoderWeights}: ${(e as Error).message}`);
    }
  }
  return new MultiTaskModel(encoder, {
    tasks: runTasks(config),
    cvm: cvmVariant(config.cvm),
    cvmConfig: cvmConfig(config),
  });
}
