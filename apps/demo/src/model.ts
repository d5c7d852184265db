/**
 * The shipped model: built from a training checkpoint's `config.json` (as `apps/train` writes it) and
 * loaded from its safetensors with `@cvm/nn`'s loader. Shared by the page's worker and the Node test.
 */
import { CVM_SIZE_PRESETS, type CvmSizeName } from '@cvm/cvm-module';
import { createEncoder } from '@cvm/encoders';
import { type CvmVariant, datasetTasks, MultiTaskModel, type TaskName } from '@cvm/mtl-heads';
import { loadModuleSafetensors } from '@cvm/nn';

/** The fields of `apps/train`'s `config.json` that define the architecture and its data. */
export interface CheckpointConfig {
  dataset: 'synthetic' | 'nyud' | 'pascal';
  views: number;
  size: [number, number];
  worldSeed: number;
  valScenes: number;
  encoder: string;
  encoderDim: number | null;
  encoderLayers: number[] | null;
  cvm: 'none' | 'full' | 'noCostVolume' | 'noCrossViewFeatures' | 'selfAttention';
  cvmSize: CvmSizeName;
  depthCandidates: number | null;
  tasks: TaskName[] | null;
}

/** Builds the checkpoint's architecture and loads its weights strictly (every name and shape). */
export function loadModel(config: CheckpointConfig, weights: ArrayBuffer | Uint8Array): MultiTaskModel {
  const encoder = createEncoder(config.encoder, {
    ...(config.encoderLayers ? { outLayers: config.encoderLayers.map((l) => l - 1) } : {}),
    ...(config.encoderDim !== null ? { embedDim: config.encoderDim } : {}),
  });
  const size = CVM_SIZE_PRESETS[config.cvmSize];
  if (!size) throw new Error(`model config: unknown cvmSize '${config.cvmSize}'`);
  const range = typeof size.depthRange === 'object' ? size.depthRange : { near: 0.5, far: 10 };
  const cvmConfig =
    config.depthCandidates === null
      ? size
      : { ...size, depthRange: { ...range, count: config.depthCandidates } };
  const cvm: CvmVariant = config.cvm === 'selfAttention' ? 'selfAttentionOnly' : config.cvm;
  const model = new MultiTaskModel(encoder, {
    tasks: datasetTasks(config.dataset === 'pascal' ? 'pascal' : 'nyud', config.tasks ?? undefined),
    cvm,
    cvmConfig,
  });
  try {
    loadModuleSafetensors(model, weights instanceof Uint8Array ? weights : new Uint8Array(weights));
  } catch (e) {
    model.dispose();
    throw new Error(`model weights do not fit config.json: ${(e as Error).message}`);
  }
  model.eval();
  return model;
}
