import { IMAGENET_MEAN } from '@cvm/nn';
import { DataLoader, type PipelineOptions, type SourceSpec } from '@cvm/datasets/node';
import type { TrainConfig } from './config.js';
import { taskNames } from './model.js';

/** Where a split's samples come from. */
export function sourceSpec(config: TrainConfig, split: 'train' | 'val'): SourceSpec {
  const name = split === 'train' ? config.trainSplit : config.valSplit;
  switch (config.dataset) {
    case 'synthetic': {
      const [height, width] = config.size;
      return {
        kind: 'synthetic',
        world: {
          seed: config.worldSeed,
          height,
          width,
          views: config.views,
          trainScenes: config.trainScenes,
          valScenes: config.valScenes,
        },
        split,
        framesAsSamples: split === 'train' && config.trainFrames === 'all',
        baselineScale: config.baselineScale,
      };
    }
    case 'nyud':
      return {
        kind: 'nyud-mt',
        root: config.dataRoot as string,
        split: name,
        options: { views: config.views },
      };
    case 'pascal':
      return { kind: 'pascal-mt', root: config.dataRoot as string, split: name, tasks: taskNames(config) };
  }
}

/** The transforms of a split (the protocol's augmentation for training, padding only for val). */
export function pipeline(config: TrainConfig, train: boolean): PipelineOptions {
  const padColor =
    config.padColor === 'imagenet' ? ([...IMAGENET_MEAN] as [number, number, number]) : undefined;
  const augment = train && config.augment === 'protocol';
  return {
    train,
    size: config.size,
    padColor,
    ...(train && !augment ? { scale: null, catMaxRatio: 1, flip: false, photometric: false } : {}),
  };
}

/** The training loader: shuffled per epoch with `seed`, incomplete batches dropped. */
export function trainLoader(config: TrainConfig): DataLoader {
  return new DataLoader({
    source: sourceSpec(config, 'train'),
    pipeline: pipeline(config, true),
    batchSize: config.batch,
    seed: config.seed,
    workers: config.workers,
    tasks: taskNames(config),
  });
}

/** The validation loader, in split order. */
export function valLoader(config: TrainConfig, batchSize = config.batch): DataLoader {
  return new DataLoader({
    source: sourceSpec(config, 'val'),
    pipeline: pipeline(config, false),
    batchSize,
    workers: 0,
    tasks: taskNames(config),
  });
}
