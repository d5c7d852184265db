import { CrossViewModule, type CrossViewModuleConfig, type CvmCameras, type CvmMode } from '@cvm/cvm-module';
import { Module, ModuleDict } from '@cvm/nn';
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
  forward(images: readonly tf.Tensor[], cameras?: CvmCameras | null): TaskOutputs {
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
    const [, height, width] = ref.shape;
    return tf.tidy(() => {
      const maps = this.encoderMaps(ref as tf.Tensor4D);
      let cvmRef: tf.Tensor4D | null = null;
      if (this.cvm) {
        const outs = this.cvm.forward(images, cameras);
        cvmRef = outs[0];
      }
      const out: TaskOutputs = {};
      for (const t of this.tasks)
        out[t.name] = this.head(t.name).forward(maps[t.name], [height, width], cvmRef);
      return out;
    });
  }

  /** Each task's four encoder maps: the encoder's per-task features when it has them (SAK), else shared. */
  private encoderMaps(images: tf.Tensor4D): Record<string, tf.Tensor4D[]> {
    const names = this.tasks.map((t) => t.name);
    const enc = this.backbone;
    let returned: Record<string, tf.Tensor4D[]>;
    const perTask = Boolean(enc.tasks?.length && enc.forwardTaskIntermediates);
    if (perTask && enc.forwardTaskIntermediates) {
      returned = enc.forwardTaskIntermediates(images, names);
    } else {
      const shared = enc.forwardIntermediates(images);
      returned = Object.fromEntries(names.map((n) => [n, shared]));
    }
    // Encoders may hand out tensors kept out of every scope (tf.keep), which no tidy frees; own them here
    // (clones tracked by the caller's scope, gradients flow through) and release the originals.
    const owned = new Map<tf.Tensor, tf.Tensor4D>();
    const byTask: Record<string, tf.Tensor4D[]> = {};
    for (const n of names) {
      const maps = returned[n];
      byTask[n] = Array.isArray(maps)
        ? maps.map((m) => {
            if (!owned.has(m)) owned.set(m, tf.clone(m));
            return owned.get(m) as tf.Tensor4D;
          })
        : maps;
    }
    tf.dispose([...owned.keys()]);
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
