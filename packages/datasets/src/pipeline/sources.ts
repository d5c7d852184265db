import { PascalMtDataset } from '../formats/pascal-mt.js';
import { type ReadNyudMtOptions, readNyudMtSample, readNyudMtSplit } from '../formats/nyud-mt.js';
import type { MultiViewSample, TaskName } from '../schema.js';
import { type Split, SyntheticWorld, type SyntheticWorldOptions } from '../synthetic/world.js';

/**
 * Where samples come from, as plain data (so worker threads can open the same source): the synthetic
 * world, an NYUD-MT folder (with its multi-view frames when present) or a PASCAL-MT folder.
 */
export type SourceSpec =
  | {
      kind: 'synthetic';
      world: SyntheticWorldOptions;
      split: Split;
      /**
       * Every view of every clip as its own single-view labelled sample (`views` × scenes samples,
       * scene-major): the "MTL trained on multi-view data" setting. Default false.
       */
      framesAsSamples?: boolean;
      /**
       * Neighbour cameras moved `baselineScale` times as far from the reference (`SyntheticWorld.sample`'s
       * option; with `framesAsSamples`, every frame is rendered from its moved camera). Default 1.
       */
      baselineScale?: number;
    }
  | { kind: 'nyud-mt'; root: string; split: string; options?: ReadNyudMtOptions }
  | { kind: 'pascal-mt'; root: string; split: string; tasks?: TaskName[] };

/** An opened source: its size and random access to samples. */
export interface SampleSource {
  readonly length: number;
  sample(index: number): MultiViewSample;
}

/**
 * Opens a source (split files and class lists are read once).
 *
 * @example const src = openSource({ kind: 'synthetic', world: { seed: 1 }, split: 'train' }); src.sample(0);
 */
export function openSource(spec: SourceSpec): SampleSource {
  switch (spec.kind) {
    case 'synthetic': {
      const world = new SyntheticWorld(spec.world);
      const scenes = world.size(spec.split);
      const options = { baselineScale: spec.baselineScale };
      if (spec.framesAsSamples) {
        const views = world.options.views;
        return {
          length: scenes * views,
          sample: (i) => world.frameSample(spec.split, Math.floor(i / views), i % views, options),
        };
      }
      return { length: scenes, sample: (i) => world.sample(spec.split, i, options) };
    }
    case 'nyud-mt': {
      const ids = readNyudMtSplit(spec.root, spec.split);
      return { length: ids.length, sample: (i) => readNyudMtSample(spec.root, ids[i], spec.options) };
    }
    case 'pascal-mt': {
      const ds = new PascalMtDataset(spec.root, spec.split, { tasks: spec.tasks });
      return { length: ds.length, sample: (i) => ds.sample(i) };
    }
    default:
      throw new Error(`openSource: unknown source kind '${(spec as { kind: string }).kind}'`);
  }
}
