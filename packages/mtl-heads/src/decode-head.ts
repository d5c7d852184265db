import { BatchNorm2d, Conv2d, gelu, interpolateBilinear, Linear, Module, ModuleList } from '@cvm/nn';
import * as tf from '@tensorflow/tfjs-core';

/**
 * Where the CvM output meets the encoder features inside a head:
 * - `'quarter'` (default): at SAK's operating size `⌊H/4⌋×⌊W/4⌋`; the CvM map (1/2) is resized down
 *   bilinearly. The head costs what SAK's costs (plus the CvM input channels of one conv).
 * - `'half'`: at the CvM's own size `⌈H/2⌉×⌈W/2⌉`; the four encoder maps are resized up to it. The CvM
 *   detail is kept, at 4× the head's conv cost.
 */
export type FusionResolution = 'quarter' | 'half';

/** Options of `DecodeHead`. */
export interface DecodeHeadOptions {
  /** Encoder width `D` (each of the four maps). */
  inChannels: number;
  /** Output channels (the task's). */
  numClasses: number;
  /** Kernel of the fuse conv. Default 3. */
  kernelSize?: number;
  /** Channels of the CvM output fused in; 0 (default) is SAK's head unchanged. */
  cvmChannels?: number;
  /** Default `'quarter'`. */
  fusionResolution?: FusionResolution;
}

/** `nn.Sequential(Conv2d, BatchNorm2d, GELU)` of SAK's head, named `0`, `1` (GELU has no parameters). */
class ConvBnGelu extends Module {
  readonly conv: Conv2d;
  readonly norm: BatchNorm2d;
  constructor(inChannels: number, outChannels: number, kernelSize: number) {
    super();
    this.conv = this.registerModule(
      '0',
      new Conv2d(inChannels, outChannels, kernelSize, { padding: Math.floor(kernelSize / 2) }),
    );
    this.norm = this.registerModule('1', new BatchNorm2d(outChannels));
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.normGelu(this.conv.forward(x)));
  }
  /** What follows the convolution: BatchNorm, GELU. */
  normGelu(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => gelu(this.norm.forward(x)) as tf.Tensor4D);
  }
}

/**
 * SAK's per-task `DecodeHead` (`models/heads.py`), NHWC, with the paper's CvM fusion:
 * each of the four encoder maps goes through its own `Linear` D → D/4 (`linears.k`), is resized
 * bilinearly to the fusion size, and the four are concatenated (D channels), followed by the CvM output
 * (resized, then normalised by its own BatchNorm2d `cvm_norm`) when `cvmChannels > 0`; then `linear_fuse` = Conv k×k (D + C_cvm → D) → BatchNorm → GELU, the final
 * linear layer `last_conv` = Conv 1×1 (D → classes), and a bilinear resize to the input size (SAK's
 * `MultiTaskModel`). Every resize is PyTorch's `align_corners=False` (`interpolateBilinear`).
 *
 * Parameter names are SAK's (`linears.0..3.weight|bias`, `linear_fuse.0.weight|bias`,
 * `linear_fuse.1.weight|bias|running_mean|running_var|num_batches_tracked`, `last_conv.weight|bias`;
 * with CvM also `cvm_norm.weight|bias|running_mean|running_var|num_batches_tracked`), so a SAK stage-2 head loads by name; with CvM channels `linear_fuse.0.weight` has C_cvm more input
 * channels after SAK's D (see `loadSakHead`).
 * @example
 * const head = new DecodeHead({ inChannels: 768, numClasses: 40, cvmChannels: 256 });
 * head.forward(maps, [448, 576], cvmOut); // maps: 4 × [B,28,36,768], cvmOut [B,224,288,256] → [B,448,576,40]
 */
export class DecodeHead extends Module {
  readonly inChannels: number;
  readonly embedDim: number;
  readonly numClasses: number;
  readonly cvmChannels: number;
  readonly fusionResolution: FusionResolution;
  readonly linears: ModuleList<Linear>;
  /** BatchNorm of the CvM channels before the concat (`cvm_norm`); null without CvM channels. */
  readonly cvmNorm: BatchNorm2d | null;
  readonly linearFuse: ConvBnGelu;
  readonly lastConv: Conv2d;

  constructor({
    inChannels,
    numClasses,
    kernelSize = 3,
    cvmChannels = 0,
    fusionResolution = 'quarter',
  }: DecodeHeadOptions) {
    super();
    for (const [name, v, min] of [
      ['inChannels', inChannels, 4],
      ['numClasses', numClasses, 1],
      ['kernelSize', kernelSize, 1],
      ['cvmChannels', cvmChannels, 0],
    ] as const) {
      if (!Number.isInteger(v) || v < min)
        throw new Error(`DecodeHead: ${name} must be an integer >= ${min}, got ${v}`);
    }
    if (inChannels % 4 !== 0)
      throw new Error(`DecodeHead: inChannels must be divisible by 4, got ${inChannels}`);
    if (fusionResolution !== 'quarter' && fusionResolution !== 'half') {
      throw new Error(`DecodeHead: fusionResolution must be 'quarter' or 'half', got '${fusionResolution}'`);
    }
    this.inChannels = inChannels;
    this.embedDim = inChannels / 4;
    this.numClasses = numClasses;
    this.cvmChannels = cvmChannels;
    this.fusionResolution = fusionResolution;
    this.linears = this.registerModule(
      'linears',
      new ModuleList([0, 1, 2, 3].map(() => new Linear(inChannels, this.embedDim))),
    );
    // The CvM output is raw: the cost-volume channels are matching scores of O(10²) with a large common
    // offset, the cross-view features O(1–10), while SAK's projected encoder maps are O(1). Concatenated
    // as they are, the fused conv's first steps are driven by the CvM's scale, not its content.
    this.cvmNorm = cvmChannels > 0 ? this.registerModule('cvm_norm', new BatchNorm2d(cvmChannels)) : null;
    this.linearFuse = this.registerModule(
      'linear_fuse',
      new ConvBnGelu(inChannels + cvmChannels, inChannels, kernelSize),
    );
    this.lastConv = this.registerModule('last_conv', new Conv2d(inChannels, numClasses, 1));
  }

  /**
   * The CvM input that carries no information (`[C_cvm]`, a new tensor): the running mean of
   * `cvm_norm`, which the BatchNorm maps to 0 (then to its bias) in eval mode, the value of a CvM
   * feature at its average. `MultiTaskModel`'s `cvmAblation: 'off'` feeds it in place of the CvM map.
   */
  neutralCvmValue(): tf.Tensor1D {
    if (this.cvmChannels === 0 || !this.cvmNorm)
      throw new Error('DecodeHead: a head built with cvmChannels 0 has no CvM input');
    const mean = this.cvmNorm.runningMean;
    return mean ? (mean.clone() as tf.Tensor1D) : tf.zeros([this.cvmChannels]);
  }

  /**
   * @param features four `[B,h,w,D]` encoder maps (any sizes; SAK's are all 1/16)
   * @param imageSize `[H, W]` of the input image: the output size
   * @param cvm `[B,⌈H/2⌉,⌈W/2⌉,C_cvm]` CvM output; required exactly when `cvmChannels > 0`
   * @returns `[B,H,W,numClasses]` logits / values
   */
  forward(
    features: readonly tf.Tensor[],
    imageSize: readonly [number, number],
    cvm?: tf.Tensor | null,
  ): tf.Tensor4D {
    return tf.tidy(() => this.finish(this.fuse(features, imageSize, cvm), imageSize));
  }

  /**
   * `forward` up to `linear_fuse`'s convolution (before its BatchNorm): `forward(f, size, cvm)` is
   * `finish(fuse(f, size, cvm), size)`. The cut of activation checkpointing inside a head: at 448×576
   * with ViT-B its `[B,112,144,768]` tensors are on both sides of it. Arguments as `forward`'s.
   * @returns `[B,h',w',D]` at the fusion resolution
   */
  fuse(
    features: readonly tf.Tensor[],
    imageSize: readonly [number, number],
    cvm?: tf.Tensor | null,
  ): tf.Tensor4D {
    if (!Array.isArray(features) || features.length !== 4) {
      throw new Error(
        `DecodeHead: features must be 4 encoder maps, got ${Array.isArray(features) ? features.length : typeof features}`,
      );
    }
    const batch = features[0].shape[0];
    features.forEach((f, i) => {
      if (f.rank !== 4 || f.shape[3] !== this.inChannels || f.shape[0] !== batch) {
        throw new Error(
          `DecodeHead: features[${i}] must be [${batch},h,w,${this.inChannels}], got [${f.shape}]`,
        );
      }
    });
    const [height, width] = imageSize;
    if (!Number.isInteger(height) || !Number.isInteger(width) || height < 4 || width < 4) {
      throw new Error(`DecodeHead: imageSize must be [H, W] with H, W >= 4, got [${imageSize}]`);
    }
    const cvmSize: [number, number] = [Math.ceil(height / 2), Math.ceil(width / 2)];
    if (this.cvmChannels > 0) {
      const want = [batch, ...cvmSize, this.cvmChannels];
      const shape = cvm ? cvm.shape : [];
      if (shape.length !== 4 || want.some((d, i) => shape[i] !== d)) {
        throw new Error(
          `DecodeHead: cvm must be [${want}] (the CvM output for a ${height}x${width} image), got ${cvm ? `[${cvm.shape}]` : cvm}`,
        );
      }
    } else if (cvm) {
      throw new Error('DecodeHead: a cvm map was given to a head built with cvmChannels 0');
    }
    const size: [number, number] =
      this.fusionResolution === 'quarter' ? [Math.floor(height / 4), Math.floor(width / 4)] : cvmSize;
    return tf.tidy(() => {
      const parts: tf.Tensor[] = features.map((f, i) =>
        resizeTo(this.linears.get(i).forward(f) as tf.Tensor4D, size),
      );
      if (cvm && this.cvmNorm) parts.push(this.cvmNorm.forward(resizeTo(cvm as tf.Tensor4D, size)));
      return this.linearFuse.conv.forward(tf.concat(parts, 3) as tf.Tensor4D);
    });
  }

  /**
   * The rest of `forward` after `fuse`: `linear_fuse`'s BatchNorm and GELU, `last_conv`, the resize.
   * @param convolved `[B,h',w',D]`, `fuse`'s output
   * @param imageSize `[H, W]`, as given to `fuse`
   * @returns `[B,H,W,numClasses]`
   */
  finish(convolved: tf.Tensor, imageSize: readonly [number, number]): tf.Tensor4D {
    return tf.tidy(() =>
      interpolateBilinear(this.lastConv.forward(this.linearFuse.normGelu(convolved as tf.Tensor4D)), [
        imageSize[0],
        imageSize[1],
      ]),
    );
  }
}

function resizeTo(x: tf.Tensor4D, size: readonly [number, number]): tf.Tensor4D {
  return x.shape[1] === size[0] && x.shape[2] === size[1] ? x : interpolateBilinear(x, size);
}
