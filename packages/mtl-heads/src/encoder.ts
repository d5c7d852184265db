import type { Module, Segment } from '@cvm/nn';
import type * as tf from '@tensorflow/tfjs-core';

/**
 * What `MultiTaskModel` needs from an MTL encoder (`@cvm/encoders`' `Encoder` has this shape; timm's
 * `forward_intermediates` in spirit): a module with PyTorch-named parameters whose
 * `forwardIntermediates` turns `[0,1]` RGB images (normalised by the encoder itself) into four
 * `[B,h,w,D]` feature maps (the ViT's blocks 5/12/18/24 for ViT-L, 3/6/9/12 for ViT-B, 1-based).
 */
export interface MultiScaleEncoder extends Module {
  /** `D`, the channels of every map. */
  readonly embedDim: number;
  /**
   * @param images `[B,H,W,3]` float32 RGB in [0,1]
   * @returns four `[B,h,w,D]` maps (new tensors, owned by the caller)
   */
  forwardIntermediates(images: tf.Tensor4D): tf.Tensor4D[];
  /**
   * `forwardIntermediates` cut into segments for activation checkpointing (`@cvm/encoders`' ViT: one
   * per block): running `segments` in order on `inputs` (`[images]`) gives its four maps. Without it,
   * the checkpointed step keeps the encoder as one segment.
   */
  forwardIntermediatesSegments?(images: tf.Tensor4D): { inputs: tf.Tensor[]; segments: Segment[] };
  /** Task names with their own features (SAK's routers); empty or absent for task-agnostic encoders. */
  readonly tasks?: readonly string[];
  /**
   * Per-task maps in one pass (`{task: four maps}`), used instead of `forwardIntermediates` when
   * `tasks` is non-empty (SAK's `out_feas_dict[task]`).
   */
  forwardTaskIntermediates?(images: tf.Tensor4D, tasks: readonly string[]): Record<string, tf.Tensor4D[]>;
}
