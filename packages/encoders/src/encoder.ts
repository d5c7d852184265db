import { ImageRangeCheck, Module, type Segment } from '@cvm/nn';
import type * as tf from '@tensorflow/tfjs-core';

/** Which checkpoint family an encoder belongs to (decides names, token layout and input statistics). */
export type EncoderFamily = 'dinov3' | 'radio' | 'timm' | 'sak';

/** Options of `forwardIntermediates`. */
export interface IntermediatesOptions {
  /** 0-based block indices to read out (default: the family's own dense read-out, `encoder.outLayers`). */
  layers?: readonly number[];
  /**
   * Apply the final norm to every read-out (default: the family's own choice, `encoder.normIntermediates`:
   * true for DINOv3, false for RADIO). A no-op for encoders without a final norm.
   */
  norm?: boolean;
  /**
   * SAK only: the task whose MoR output to return (one of `encoder.tasks`). Without it SAK returns its
   * router-less sum (ViT features + every teacher path), SAK's `router_type: "none"` output.
   */
  task?: string;
}

/**
 * What every encoder of this package is: a `Module` (PyTorch parameter names) that turns RGB images in
 * `[0, 1]` (`[B, H, W, 3]`, float32, NHWC; each encoder normalises its own input) into dense features.
 */
export abstract class Encoder extends Module {
  abstract readonly family: EncoderFamily;
  /** Channels `D` of every feature map. */
  abstract readonly embedDim: number;
  /** Patch size `p`: feature maps are `[B, floor(H/p), floor(W/p), D]`. */
  abstract readonly patchSize: number;
  /** Number of transformer blocks. */
  abstract readonly depth: number;
  /** Default read-out blocks (0-based), the ones the family's own dense evaluations use. */
  abstract readonly outLayers: readonly number[];
  /** Default of `IntermediatesOptions.norm`. */
  abstract readonly normIntermediates: boolean;
  /** Task names with their own features (SAK's MoR routers); empty when features are task-agnostic. */
  abstract readonly tasks: readonly string[];

  /**
   * Checks that images are in `[0, 1]` (`@cvm/nn`'s `ImageRangeCheck`: on cpu / wasm / tfjs-node a bad
   * input throws at once; on WebGPU / WebGL the next call throws). Set to null to skip the check.
   */
  inputRangeCheck: ImageRangeCheck | null = new ImageRangeCheck();

  /**
   * Dense features from several blocks.
   * @param images `[B, H, W, 3]` RGB in `[0, 1]`
   * @returns one `[B, H/p, W/p, D]` map per read-out block (caller disposes)
   */
  abstract forwardIntermediates(images: tf.Tensor4D, options?: IntermediatesOptions): tf.Tensor4D[];

  /**
   * `forwardIntermediates` cut into segments for activation checkpointing (`checkpointedGradients` of
   * `@cvm/nn`): running `segments` in order on `inputs` gives `forwardIntermediates(images, options)`'s
   * maps, computed by the same code. This default is one segment (the whole pass); encoders whose
   * blocks can be cut (`VisionTransformer`) override it.
   * @param images `[B, H, W, 3]` RGB in `[0, 1]`
   * @returns `inputs` (`[images]`) and the segments
   */
  forwardIntermediatesSegments(
    images: tf.Tensor4D,
    options: IntermediatesOptions = {},
  ): { inputs: tf.Tensor[]; segments: Segment[] } {
    return {
      inputs: [images],
      segments: [([x]) => this.forwardIntermediates(x as tf.Tensor4D, options)],
    };
  }

  /**
   * Buffers that are a function of the configuration (DINOv3's RoPE `periods`), freshly computed by name:
   * checkpoints in naming schemes that do not store them (Hugging Face, timm) get these. Caller disposes.
   */
  computedBuffers(): Record<string, tf.Tensor> {
    return {};
  }

  /**
   * Dense features for several tasks in one pass: `{task: maps}`. Task-agnostic encoders return the same
   * tensors under every name (dispose each once, e.g. `tf.dispose(Object.values(out).flat())` is safe:
   * disposing twice is a no-op).
   * @param images `[B, H, W, 3]` RGB in `[0, 1]`
   * @param tasks default `encoder.tasks`
   */
  forwardTaskIntermediates(
    images: tf.Tensor4D,
    tasks: readonly string[] = this.tasks,
    options: Omit<IntermediatesOptions, 'task'> = {},
  ): Record<string, tf.Tensor4D[]> {
    if (tasks.length === 0)
      throw new Error(`${this.constructor.name}: forwardTaskIntermediates needs task names`);
    const shared = this.forwardIntermediates(images, options);
    return Object.fromEntries(tasks.map((t) => [t, shared]));
  }
}
