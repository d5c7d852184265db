import { CrossViewModule, type CrossViewModuleConfig, type CvmCameras, type CvmMode } from '@cvm/cvm-module';
import { Module, ModuleDict, passThrough, type Segment } from '@cvm/nn';
import * as tf from '@tensorflow/tfjs-core';
import { DecodeHead, type FusionResolution } from './decode-head.js';
import type { MultiScaleEncoder } from './encoder.js';
import type { TaskDefinition, TaskName } from './tasks.js';

/**
 * Which cross-view module the model carries (the paper's Tab. A15 rows):
 * `'none'` (MTL without CvM, "Ours w/o CV & CF"; also STL with one task), `'full'` (CvM),
 * `'noCostVolume'` (w/o CV), `'noCrossViewFeatures'` (w/o CF), `'selfAttentionOnly'`
 * (the self-attention capacity baseline, "DINOv3 + Self-Attn").
 */
export type CvmVariant = 'none' | CvmMode;

/** Configuration of `MultiTaskModel`. */
export interface MultiTaskModelConfig {
  /** The tasks (`datasetTasks(...)`); one head each, named `heads.<task>`. */
  tasks: readonly TaskDefinition[];
  /** Default `'full'`. */
  cvm?: CvmVariant;
  /** `CrossViewModule` configuration (its `mode` comes from `cvm`). Default: the paper's sizes. */
  cvmConfig?: Omit<CrossViewModuleConfig, 'mode'>;
  /** Where the CvM output meets the encoder features in each head. Default `'quarter'`. */
  fusionResolution?: FusionResolution;
}

/** Tensors `forward` returns: one `[B,H,W,channels]` output per task, for the reference view. */
export type TaskOutputs = Partial<Record<TaskName, tf.Tensor4D>>;

/**
 * An inference-time ablation of the CvM of a trained model (`forward`'s `options.cvmAblation`), so one
 * checkpoint shows what the module contributes:
 * - `'off'`: the CvM is not run; every head receives, in place of the CvM map, the neutral value of
 *   its CvM input (`DecodeHead.neutralCvmValue`: the running mean of its `cvm_norm`, which the
 *   BatchNorm normalises to 0), a map carrying no information;
 * - `'noCostVolume'` / `'noCrossViewFeatures'`: the CvM runs with its cost volume / its cross-view
 *   features replaced by zeros at the upsampler's input (`CrossViewModule`'s `CvmPartAblation`).
 *
 * These are not the paper's ablations (Tab. A15 retrains each architecture, `config.cvm`): the heads
 * see inputs they were not trained on. They are what a single shipped checkpoint can show.
 */
export type CvmAblation = 'off' | 'noCostVolume' | 'noCrossViewFeatures';

/** Options of `MultiTaskModel.forward` / `forwardWithIntermediates`. */
export interface MultiTaskForwardOptions {
  /** Inference-time CvM ablation (needs a model with a CvM); default none. */
  cvmAblation?: CvmAblation | null;
}

/** What `forwardWithIntermediates` returns (new tensors, owned by the caller). */
export interface MultiTaskIntermediates {
  outputs: TaskOutputs;
  /** The reference view's `[B,Hp/8,Wp/8,L]` cost volume (matching score per inverse-depth candidate, far → near); null without one. */
  costVolume: tf.Tensor4D | null;
}

const ABLATIONS: readonly CvmAblation[] = ['off', 'noCostVolume', 'noCrossViewFeatures'];

/**
 * The 3D-aware multi-task model: an MTL encoder on the reference view, an optional Cross-view Module
 * on all views, and one SAK decode head per task with the CvM output fused in.
 *
 * Input: `V ≥ 1` views (`[B,H,W,3]` RGB in [0,1], view 0 the reference) and, for a cost volume over
 * 2+ views, their cameras; output: each task's `[B,H,W,channels]` for the reference view. One view is
 * the paper's single-view setting (the CvM then uses identity cameras). Parameter names:
 * `backbone.*` (the encoder's), `cvm.*` (`CrossViewModule`'s), `heads.<task>.*` (SAK's).
 *
 * @example
 * const model = new MultiTaskModel(encoder, { tasks: datasetTasks('nyud'), cvm: 'full' });
 * const out = model.forward([ref, nbr], { intrinsics: [K, K], cameraToWorld: [c2wRef, c2wNbr] });
 * out.semseg; // [B,H,W,40] logits
 */
export class MultiTaskModel extends Module {
  readonly tasks: readonly TaskDefinition[];
  readonly variant: CvmVariant;
  readonly backbone: MultiScaleEncoder;
  readonly cvm: CrossViewModule | null;
  readonly heads: ModuleDict<DecodeHead>;

  constructor(encoder: MultiScaleEncoder, config: MultiTaskModelConfig) {
    super();
    const { tasks, cvm = 'full', cvmConfig = {}, fusionResolution = 'quarter' } = config;
    if (!tasks || tasks.length === 0)
      throw new Error('MultiTaskModel: config.tasks must name at least one task');
    if (new Set(tasks.map((t) => t.name)).size !== tasks.length) {
      throw new Error(`MultiTaskModel: repeated task in [${tasks.map((t) => t.name).join(', ')}]`);
    }
    if (new Set(tasks.map((t) => t.dataset)).size !== 1)
      throw new Error('MultiTaskModel: tasks of different datasets');
    if (!encoder || typeof encoder.forwardIntermediates !== 'function' || !(encoder.embedDim > 0)) {
      throw new Error('MultiTaskModel: encoder must have forwardIntermediates(images) and embedDim');
    }
    this.tasks = [...tasks];
    this.variant = cvm;
    this.backbone = this.registerModule('backbone', encoder);
    this.cvm =
      cvm === 'none' ? null : this.registerModule('cvm', new CrossViewModule({ ...cvmConfig, mode: cvm }));
    const cvmChannels = this.cvm ? this.cvm.outChannels : 0;
    this.heads = this.registerModule(
      'heads',
      new ModuleDict<DecodeHead>(
        tasks.map((t): [string, DecodeHead] => [
          t.name,
          new DecodeHead({
            inChannels: encoder.embedDim,
            numClasses: t.channels,
            cvmChannels,
            fusionResolution,
          }),
        ]),
      ),
    );
  }

  /** The head of `task`. */
  head(task: TaskName): DecodeHead {
    return this.heads.get(task);
  }

  /**
   * @param images one `[B,H,W,3]` float32 RGB batch in [0,1] per view; `images[0]` is the reference
   * @param cameras intrinsics (input pixels) and camera-to-world poses per view, as
   *   `CrossViewModule.forward` takes them; needed with 2+ views when the CvM builds a cost volume
   * @returns per task `[B,H,W,channels]` (new tensors, owned by the caller)
   */
  forward(
    images: readonly tf.Tensor[],
    cameras?: CvmCameras | null,
    options: MultiTaskForwardOptions = {},
  ): TaskOutputs {
    const [height, width] = this.checkImages(images);
    if (options.cvmAblation) {
      const { outputs, costVolume } = this.forwardWithIntermediates(images, cameras, options);
      costVolume?.dispose();
      return outputs;
    }
    return tf.tidy(() => {
      const maps = this.encoderMaps(images[0] as tf.Tensor4D);
      const cvmRef = this.cvm ? this.cvm.forward(images, cameras)[0] : null;
      return this.decode(maps, [height, width], cvmRef);
    });
  }

  /**
   * `forward`, also returning the reference view's cost volume (as the CvM computed it, before any
   * ablation), e.g. to show the matching score along the depth candidates at a pixel.
   */
  forwardWithIntermediates(
    images: readonly tf.Tensor[],
    cameras?: CvmCameras | null,
    options: MultiTaskForwardOptions = {},
  ): MultiTaskIntermediates {
    const [height, width] = this.checkImages(images);
    const ablation = options.cvmAblation ?? null;
    if (ablation !== null) {
      if (!ABLATIONS.includes(ablation))
        throw new Error(
          `MultiTaskModel: options.cvmAblation must be one of ${ABLATIONS.join(', ')}, got '${String(ablation)}'`,
        );
      if (!this.cvm) throw new Error('MultiTaskModel: options.cvmAblation needs a model with a CvM');
    }
    const batch = images[0].shape[0];
    const result = tf.tidy(() => {
      const maps = this.encoderMaps(images[0] as tf.Tensor4D);
      let costVolume: tf.Tensor4D | null = null;
      let outputs: TaskOutputs;
      if (this.cvm && ablation === 'off') {
        outputs = {};
        for (const t of this.tasks) {
          const head = this.head(t.name);
          const value = head.neutralCvmValue();
          const neutral = tf.broadcastTo(value, [
            batch,
            Math.ceil(height / 2),
            Math.ceil(width / 2),
            value.shape[0],
          ]);
          outputs[t.name] = head.forward(maps[t.name], [height, width], neutral);
        }
      } else {
        let cvmRef: tf.Tensor4D | null = null;
        if (this.cvm) {
          const ablate =
            ablation === 'noCostVolume'
              ? 'costVolume'
              : ablation === 'noCrossViewFeatures'
                ? 'crossViewFeatures'
                : null;
          const all = this.cvm.forwardWithIntermediates(images, cameras, { ablate });
          cvmRef = all.outputs[0];
          costVolume = all.costVolumes[0] ?? null;
        }
        outputs = this.decode(maps, [height, width], cvmRef);
      }
      return { outputs: outputs as tf.NamedTensorMap, costVolume: costVolume ? [costVolume] : [] };
    });
    return { outputs: result.outputs as TaskOutputs, costVolume: result.costVolume[0] ?? null };
  }

  /**
   * `forward` cut into segments for activation checkpointing (`checkpointedGradients` of `@cvm/nn`):
   * the encoder's own segments (`forwardIntermediatesSegments`, one per ViT block; one segment for an
   * encoder without them or with per-task features), the CvM's (`CrossViewModule.forwardSegments`;
   * the encoder maps are passed through them), then two per task head (`DecodeHead.fuse`, `finish`). Running `segments` in order on
   * `inputs` gives `forward`'s outputs as an array in `tasks` order, computed by the same code.
   * @returns `inputs` (the images), the segments, and the task of each final output
   * @example
   * const { inputs, segments, tasks } = model.forwardSegments([ref, nbr], cams);
   * const loss: Segment = (outs) => [tf.addN(outs.map((o) => tf.mean(tf.square(o))))];
   * const { value, grads } = checkpointedGradients([...segments, loss], inputs, model.parameters());
   */
  forwardSegments(
    images: readonly tf.Tensor[],
    cameras?: CvmCameras | null,
  ): { inputs: tf.Tensor[]; segments: Segment[]; tasks: TaskName[] } {
    const size = this.checkImages(images);
    const names = this.tasks.map((t) => t.name);
    const cvm = this.cvm ? this.cvm.forwardSegments(images, cameras) : null;
    const encoder = this.encoderSegments(images[0] as tf.Tensor4D);
    // While the encoder runs, the CvM's images ride in front of its state; after it, the state is every
    // task's 4 maps (task-major), then the images for the CvM, then (after the CvM) its outputs per view.
    const carried = cvm ? images.length : 0;
    const mapCount = 4 * names.length;
    const encoderSegments = encoder.segments.map(
      (segment, j): Segment =>
        (state) => {
          const ims = j === 0 ? (cvm ? state : []) : state.slice(0, carried);
          const out = segment(j === 0 ? [state[0]] : state.slice(carried));
          if (j < encoder.segments.length - 1) return [...ims, ...out];
          if (!encoder.perTask && out.length !== 4)
            throw new Error(`MultiTaskModel: the encoder must return 4 maps, got ${out.length}`);
          return [...(encoder.perTask ? out : names.flatMap(() => out)), ...ims];
        },
    );
    // Two per head, cut after its fusion convolution (`DecodeHead.fuse` / `finish`): that
    // convolution's output rides at the end of the state between them.
    const heads = names.flatMap((name, i): Segment[] => [
      (state) => {
        const maps = state.slice(4 * i, 4 * i + 4) as tf.Tensor4D[];
        return [...state, this.head(name).fuse(maps, size, cvm ? (state[mapCount] as tf.Tensor4D) : null)];
      },
      (state) => {
        const out = this.head(name).finish(state[state.length - 1], size);
        const rest = state.slice(0, -1);
        return i < names.length - 1 ? [...rest, out] : [...rest.slice(mapCount + carried), out];
      },
    ]);
    return {
      inputs: [...images],
      segments: [
        ...encoderSegments,
        ...(cvm ? cvm.segments.map((s) => passThrough(mapCount, s)) : []),
        ...heads,
      ],
      tasks: names,
    };
  }

  /**
   * The encoder's part of `forwardSegments`, on `[ref]`: its own segments giving the 4 shared maps, or
   * one segment giving every task's maps (task-major) for an encoder with per-task features or without
   * `forwardIntermediatesSegments`.
   */
  private encoderSegments(ref: tf.Tensor4D): { segments: Segment[]; perTask: boolean } {
    const enc = this.backbone;
    if (!enc.tasks?.length && enc.forwardIntermediatesSegments) {
      return { segments: enc.forwardIntermediatesSegments(ref).segments, perTask: false };
    }
    const names = this.tasks.map((t) => t.name);
    return {
      segments: [
        ([x]) => {
          const maps = this.encoderMaps(x as tf.Tensor4D);
          return names.flatMap((n) => maps[n]);
        },
      ],
      perTask: true,
    };
  }

  /** Checks the views; returns the reference view's `[H, W]`. */
  private checkImages(images: readonly tf.Tensor[]): [number, number] {
    if (!Array.isArray(images) || images.length === 0) {
      throw new Error(
        'MultiTaskModel: images must be a non-empty array of [B,H,W,3] views (view 0 = reference)',
      );
    }
    const ref = images[0];
    if (!(ref instanceof tf.Tensor) || ref.rank !== 4 || ref.shape[3] !== 3) {
      throw new Error(
        `MultiTaskModel: images[0] must be [B,H,W,3], got ${ref instanceof tf.Tensor ? `[${ref.shape}]` : typeof ref}`,
      );
    }
    return [ref.shape[1], ref.shape[2]];
  }

  /** Every task's head on its encoder maps, with the reference view's CvM output fused in. */
  private decode(
    maps: Record<string, tf.Tensor4D[]>,
    size: [number, number],
    cvmRef: tf.Tensor4D | null,
  ): TaskOutputs {
    const out: TaskOutputs = {};
    for (const t of this.tasks) out[t.name] = this.head(t.name).forward(maps[t.name], size, cvmRef);
    return out;
  }

  /** Each task's four encoder maps: the encoder's per-task features when it has them (SAK), else shared. */
  private encoderMaps(images: tf.Tensor4D): Record<string, tf.Tensor4D[]> {
    const names = this.tasks.map((t) => t.name);
    const enc = this.backbone;
    let byTask: Record<string, tf.Tensor4D[]>;
    const perTask = Boolean(enc.tasks?.length && enc.forwardTaskIntermediates);
    if (perTask && enc.forwardTaskIntermediates) {
      byTask = enc.forwardTaskIntermediates(images, names);
    } else {
      const shared = enc.forwardIntermediates(images);
      byTask = Object.fromEntries(names.map((n) => [n, shared]));
    }
    for (const n of names) {
      const maps = byTask[n];
      if (!Array.isArray(maps) || maps.length !== 4) {
        throw new Error(
          `MultiTaskModel: the encoder must return 4 maps${perTask ? ` for task '${n}'` : ''}, got ${Array.isArray(maps) ? maps.length : typeof maps}`,
        );
      }
    }
    return byTask;
  }
}
