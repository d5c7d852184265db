import * as tf from '@tensorflow/tfjs-core';
import type { MatrixInput } from './matrix-input.js';
import { type GridSampleOptions, gridSample } from './ops/grid-sample.js';
import { type PairIntrinsics, planeSweepProjection, projectReferencePixels } from './plane-sweep.js';

export interface WarpByDepthOptions {
  /** Sampling mode, default `'bilinear'`. */
  mode?: GridSampleOptions['mode'];
  /** What samples outside the neighbour image read, default `'zeros'`. */
  paddingMode?: GridSampleOptions['paddingMode'];
}

/**
 * Warps a neighbour image (or feature map) into the reference view using the reference view's depth
 * (kornia's `warp_frame_depth`): each reference pixel is back-projected at its depth, moved by
 * `T_nbr<-ref`, projected into the neighbour (z clamped at 1e-3) and sampled there, with integer pixel
 * centres (align_corners=True). Differentiable w.r.t. the image and the depth.
 * @param neighbourImage `[B,H,W,C]` the view to sample from
 * @param referenceDepth `[B,H,W,1]` z-depth of the reference view (same H, W)
 * @param pose `T_nbr<-ref`, `[4,4]` or `[B,4,4]`
 * @param intrinsics `[3,3]`/`[B,3,3]` shared, or `{reference, neighbour}`, at this resolution
 * @returns `[B,H,W,C]` the neighbour as seen from the reference camera (zeros where it falls outside)
 * @example const synth = warpByDepth(rgbNbr, depthRef, relativePose(c2wRef, c2wNbr), K);
 */
export function warpByDepth(
  neighbourImage: tf.Tensor,
  referenceDepth: tf.Tensor,
  pose: MatrixInput,
  intrinsics: PairIntrinsics,
  options: WarpByDepthOptions = {},
): tf.Tensor4D {
  if (!(neighbourImage instanceof tf.Tensor))
    throw new Error('neighbourImage: expected a tf.Tensor [B,H,W,C]');
  if (neighbourImage.rank !== 4)
    throw new Error(`neighbourImage: expected [B,H,W,C], got [${neighbourImage.shape}]`);
  if (neighbourImage.dtype !== 'float32')
    throw new Error(`neighbourImage: expected float32, got ${neighbourImage.dtype}`);
  const [batch, height, width] = neighbourImage.shape;
  if (!(referenceDepth instanceof tf.Tensor))
    throw new Error('referenceDepth: expected a tf.Tensor [B,H,W,1]');
  if (referenceDepth.rank !== 4 || referenceDepth.shape[3] !== 1) {
    throw new Error(`referenceDepth: expected [B,H,W,1], got [${referenceDepth.shape}]`);
  }
  // An int depth would silently floor the geometry (and take no gradient).
  if (referenceDepth.dtype !== 'float32')
    throw new Error(`referenceDepth: expected float32, got ${referenceDepth.dtype}`);
  if (
    referenceDepth.shape[0] !== batch ||
    referenceDepth.shape[1] !== height ||
    referenceDepth.shape[2] !== width
  ) {
    throw new Error(
      `referenceDepth: shape [${referenceDepth.shape}] does not match neighbourImage [${neighbourImage.shape}] in B, H, W`,
    );
  }
  if (height < 2 || width < 2) throw new Error(`neighbourImage: need H, W >= 2, got ${height}x${width}`);
  const projection = planeSweepProjection(intrinsics, pose, batch, { pose: 'pose' });
  return tf.tidy(() => {
    const proj = tf.tensor2d(projection.data, [batch, 12]);
    const depth = tf.reshape(tf.transpose(referenceDepth, [0, 3, 1, 2]), [
      batch,
      1,
      height,
      width,
    ]) as tf.Tensor4D;
    const coords = tf.reshape(projectReferencePixels(proj, depth, height, width), [batch, height, width, 2]);
    // Index space -> grid_sample's normalised coordinates for align_corners=True.
    const scale = tf.tensor1d([2 / (width - 1), 2 / (height - 1)]);
    const grid = tf.sub(tf.mul(coords, scale), 1) as tf.Tensor4D;
    return gridSample(neighbourImage as tf.Tensor4D, grid, {
      mode: options.mode ?? 'bilinear',
      paddingMode: options.paddingMode ?? 'zeros',
      alignCorners: true,
    });
  });
}
