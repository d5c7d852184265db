import { semanticBoundaries } from '../boundaries.js';
import { nyuv2Intrinsics } from '../intrinsics.js';
import { Rng, hashSeeds } from '../random.js';
import type { MultiViewSample, SampleView, TaskLabels } from '../schema.js';
import { compileScene, renderView } from './render.js';
import { CLIP_HALF_LENGTH, type SceneDescription, buildScene } from './scene.js';

export type Split = 'train' | 'val';
export const SPLITS: readonly Split[] = ['train', 'val'];

export interface SyntheticWorldOptions {
  /** World seed (integer in [0, 2³²)); default 0. */
  seed?: number;
  /** Image height in pixels; default 96. */
  height?: number;
  /** Image width in pixels; default 128. */
  width?: number;
  /** Views per sample, reference included (1..7); default 3. */
  views?: number;
  /** Number of training scenes; default 1000. */
  trainScenes?: number;
  /** Number of validation scenes; default 100. */
  valScenes?: number;
  /** RGB sub-samples per axis (1 = no anti-aliasing, up to 4); default 1. */
  antialias?: number;
  /** Half-width in pixels of the semantic boundary band; default 1 (see `semanticBoundaries`). */
  edgeRadius?: number;
  /** Probability that a scene contains the person figure; default 1. */
  personProbability?: number;
  /** Give every view its labels, not only the reference; default false. */
  labelsForAllViews?: boolean;
}

export type ResolvedWorldOptions = Required<SyntheticWorldOptions>;

const SPLIT_CODES: Record<Split, number> = { train: 0x7121a, val: 0x7a1 };
const MAX_VIEWS = 2 * CLIP_HALF_LENGTH + 1;

function checkInteger(name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw new Error(`SyntheticWorld: ${name} must be an integer in [${min}, ${max}], got ${String(value)}`);
}

/** Fills in defaults and checks every option; errors name the option. */
export function resolveWorldOptions(options: SyntheticWorldOptions = {}): ResolvedWorldOptions {
  const o: ResolvedWorldOptions = {
    seed: 0,
    height: 96,
    width: 128,
    views: 3,
    trainScenes: 1000,
    valScenes: 100,
    antialias: 1,
    edgeRadius: 1,
    personProbability: 1,
    labelsForAllViews: false,
    ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
  };
  checkInteger('seed', o.seed, 0, 2 ** 32 - 1);
  checkInteger('height', o.height, 8, 8192);
  checkInteger('width', o.width, 8, 8192);
  checkInteger('views', o.views, 1, MAX_VIEWS);
  checkInteger('trainScenes', o.trainScenes, 0);
  checkInteger('valScenes', o.valScenes, 0);
  checkInteger('antialias', o.antialias, 1, 4);
  checkInteger('edgeRadius', o.edgeRadius, 1, 64);
  if (typeof o.personProbability !== 'number' || !(o.personProbability >= 0 && o.personProbability <= 1))
    throw new Error(
      `SyntheticWorld: personProbability must be in [0, 1], got ${String(o.personProbability)}`,
    );
  return o;
}

/** How close (metres) a neighbour moved by `baselineScale` may come to a wall, floor or ceiling. */
export const ROOM_MARGIN = 0.1;

/**
 * `ref + s·(c − ref)`, with `s` lowered where needed so that the point stays `ROOM_MARGIN` inside the
 * room box `[0, size]` (`ref` is inside it).
 */
function scaledCentre(ref: readonly number[], c: readonly number[], s: number, size: readonly number[]) {
  let t = s;
  for (let k = 0; k < 3; k++) {
    const d = c[k] - ref[k];
    if (d > 0) t = Math.min(t, (size[k] - ROOM_MARGIN - ref[k]) / d);
    else if (d < 0) t = Math.min(t, (ROOM_MARGIN - ref[k]) / d);
  }
  t = Math.max(t, 0);
  return c.map((x, k) => ref[k] + t * (x - ref[k]));
}

/** `baselineScale` (default 1), checked: a finite number >= 0. */
function checkBaselineScale(scale: number | undefined): number {
  const s = scale ?? 1;
  if (typeof s !== 'number' || !Number.isFinite(s) || s < 0)
    throw new Error(`SyntheticWorld: baselineScale must be a finite number >= 0, got ${String(s)}`);
  return s;
}

/**
 * The procedural multi-view multi-task world: a fixed, seeded list of train and val scenes (the splits
 * never share a scene: each scene's seed is derived from the world seed, its split and its index), each
 * rendered as a handheld-video sample of `views` frames with exact labels.
 *
 * @example
 * const world = new SyntheticWorld({ seed: 1, views: 3 });
 * const sample = world.sample('train', 0);
 * sample.views.length; // 3; views[0] is the reference and carries the labels
 * sample.views[0].labels.depth; // Float32Array [96·128], metres
 */
export class SyntheticWorld {
  readonly options: ResolvedWorldOptions;

  constructor(options: SyntheticWorldOptions = {}) {
    this.options = resolveWorldOptions(options);
  }

  /** Number of scenes in `split`. */
  size(split: Split): number {
    this.checkSplit(split);
    return split === 'train' ? this.options.trainScenes : this.options.valScenes;
  }

  /** Stable id of scene `index` of `split`, e.g. `syn-train-000042`. */
  sceneId(split: Split, index: number): string {
    this.checkIndex(split, index);
    return `syn-${split}-${String(index).padStart(6, '0')}`;
  }

  /** Ids of every scene of `split`, in order. */
  ids(split: Split): string[] {
    return Array.from({ length: this.size(split) }, (_, i) => this.sceneId(split, i));
  }

  /** The seed scene `index` of `split` is built from. */
  sceneSeed(split: Split, index: number): number {
    this.checkIndex(split, index);
    return hashSeeds(this.options.seed, SPLIT_CODES[split], index);
  }

  /** The scene description (geometry, materials, lights, camera clip). */
  scene(split: Split, index: number): SceneDescription {
    return buildScene(this.sceneSeed(split, index), { personProbability: this.options.personProbability });
  }

  /** Clip offsets of the views: 0 (the reference) then the neighbours' offsets (distinct, within ±3). */
  viewOffsets(split: Split, index: number): number[] {
    const rng = new Rng(hashSeeds(this.sceneSeed(split, index), 0x0ff5e7));
    const pool = [];
    for (let k = 1; k <= CLIP_HALF_LENGTH; k++) pool.push(-k, k);
    const offsets = [0];
    while (offsets.length < this.options.views) offsets.push(pool.splice(rng.int(pool.length), 1)[0]);
    return offsets;
  }

  /**
   * Renders sample `index` of `split`. Deterministic: the same options give the same bytes.
   * @param options.baselineScale moves each neighbour's camera centre along the line from the
   *   reference's: `c_ref + s·(c_nbr − c_ref)` (orientations kept); default 1 (the clip's own cameras).
   *   0 puts every neighbour at the reference's centre, 2 doubles the baselines. A centre that would
   *   leave the room stops on that line `ROOM_MARGIN` inside the walls (the renderer needs the camera
   *   inside the room): large scales widen most baselines `s` times and the others less.
   */
  sample(split: Split, index: number, options: { baselineScale?: number } = {}): MultiViewSample {
    const { labelsForAllViews } = this.options;
    const scale = checkBaselineScale(options.baselineScale);
    const scene = this.scene(split, index);
    const compiled = compileScene(scene);
    const id = this.sceneId(split, index);
    const views = this.viewOffsets(split, index).map((offset, v) =>
      this.renderFrame(scene, compiled, id, offset, v === 0 || labelsForAllViews, scale),
    );
    return { id, height: this.options.height, width: this.options.width, views };
  }

  /**
   * View `view` of sample `index` alone, with its labels, as a single-view sample (id `<scene>_v<view>`):
   * the clip's frames as independent training images ("MTL trained on multi-view data without CvM").
   * Renders only that frame; its bytes equal `sample(split, index, options).views[view]`'s.
   * @param options.baselineScale as in `sample`: the frame is rendered from its moved camera.
   */
  frameSample(
    split: Split,
    index: number,
    view: number,
    options: { baselineScale?: number } = {},
  ): MultiViewSample {
    const scale = checkBaselineScale(options.baselineScale);
    const offsets = this.viewOffsets(split, index);
    if (!Number.isInteger(view) || view < 0 || view >= offsets.length)
      throw new Error(`SyntheticWorld: view must be an integer in [0, ${offsets.length - 1}], got ${view}`);
    const scene = this.scene(split, index);
    const id = this.sceneId(split, index);
    const frame = this.renderFrame(scene, compileScene(scene), id, offsets[view], true, scale);
    return { id: `${id}_v${view}`, height: this.options.height, width: this.options.width, views: [frame] };
  }

  private renderFrame(
    scene: SceneDescription,
    compiled: ReturnType<typeof compileScene>,
    id: string,
    offset: number,
    withLabels: boolean,
    baselineScale = 1,
  ): SampleView {
    const { height, width, antialias, edgeRadius } = this.options;
    const K = nyuv2Intrinsics(height, width);
    const frame = scene.clip[offset + CLIP_HALF_LENGTH];
    const R = frame.rotation;
    const ref = scene.clip[CLIP_HALF_LENGTH].position;
    // Scale 1 keeps the clip's centres bit for bit.
    const c =
      baselineScale === 1
        ? frame.position
        : scaledCentre(ref, frame.position, baselineScale, scene.room.size);
    const cameraToWorld = Float64Array.from([
      R[0],
      R[1],
      R[2],
      c[0],
      R[3],
      R[4],
      R[5],
      c[1],
      R[6],
      R[7],
      R[8],
      c[2],
      0,
      0,
      0,
      1,
    ]);
    const r = renderView(compiled, K, cameraToWorld, height, width, antialias);
    const view: SampleView = {
      rgb: r.rgb,
      intrinsics: K.slice(),
      cameraToWorld,
      name: `${id}_f${offset + CLIP_HALF_LENGTH}`,
    };
    if (withLabels) {
      const labels: TaskLabels = {
        semseg: r.semseg,
        depth: r.depth,
        normals: r.normals,
        edge: semanticBoundaries(r.semseg, height, width, edgeRadius),
        human_parts: scene.hasPerson ? r.parts : new Int32Array(height * width).fill(255),
        sal: r.sal,
      };
      view.labels = labels;
    }
    return view;
  }

  private checkSplit(split: Split): void {
    if (split !== 'train' && split !== 'val')
      throw new Error(`SyntheticWorld: split must be 'train' or 'val', got ${String(split)}`);
  }

  private checkIndex(split: Split, index: number): void {
    const n = this.size(split);
    if (!Number.isInteger(index) || index < 0 || index >= n)
      throw new Error(
        `SyntheticWorld: index must be an integer in [0, ${n - 1}] for split '${split}', got ${String(index)}`,
      );
  }
}
