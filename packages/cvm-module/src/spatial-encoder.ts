import { Conv2d, InstanceNorm2d, initParameter, kaimingNormal, Module, ModuleList } from '@cvm/nn';
import * as tf from '@tensorflow/tfjs-core';

/**
 * A downsampling 1×1 conv (with bias) followed by a parameter-free InstanceNorm, named like
 * `nn.Sequential(Conv2d, InstanceNorm2d)`: `downsample.0.weight`, `downsample.0.bias`.
 */
class Downsample extends Module {
  readonly conv: Conv2d;
  readonly norm: InstanceNorm2d;
  constructor(inPlanes: number, planes: number, stride: number) {
    super();
    this.conv = this.registerModule('0', new Conv2d(inPlanes, planes, 1, { stride }));
    this.norm = this.registerModule('1', new InstanceNorm2d(planes));
  }
  forward(x: tf.Tensor): tf.Tensor4D {
    return tf.tidy(() => this.norm.forward(this.conv.forward(x)));
  }
}

/**
 * UniMatch's `ResidualBlock` with InstanceNorm (no affine):
 * `relu(skip(x) + relu(IN(conv2(relu(IN(conv1(x)))))))`, where `skip` is identity, or
 * `IN(conv1x1_stride(x))` when the stride or the channel count changes.
 * Parameters: `conv1.weight`, `conv2.weight` (3×3, no bias), `downsample.0.weight|bias`.
 */
export class ResidualBlock extends Module {
  readonly conv1: Conv2d;
  readonly conv2: Conv2d;
  readonly norm1: InstanceNorm2d;
  readonly norm2: InstanceNorm2d;
  readonly downsample: Downsample | null;

  constructor(inPlanes: number, planes: number, stride = 1) {
    super();
    this.conv1 = this.registerModule(
      'conv1',
      new Conv2d(inPlanes, planes, 3, { stride, padding: 1, bias: false }),
    );
    this.conv2 = this.registerModule('conv2', new Conv2d(planes, planes, 3, { padding: 1, bias: false }));
    this.norm1 = this.registerModule('norm1', new InstanceNorm2d(planes));
    this.norm2 = this.registerModule('norm2', new InstanceNorm2d(planes));
    this.downsample =
      stride !== 1 || inPlanes !== planes
        ? this.registerModule('downsample', new Downsample(inPlanes, planes, stride))
        : null;
  }

  /** @param x `[B,H,W,in]` @returns `[B,H/s,W/s,planes]` */
  forward(x: tf.Tensor): tf.Tensor4D {
    return tf.tidy(() => {
      let y = tf.relu(this.norm1.forward(this.conv1.forward(x)));
      y = tf.relu(this.norm2.forward(this.conv2.forward(y)));
      const skip = this.downsample ? this.downsample.forward(x) : x;
      return tf.relu(tf.add(skip, y)) as tf.Tensor4D;
    });
  }
}

/** Channel widths of the spatial encoder. */
export interface SpatialEncoderOptions {
  /** Widths of the stem/stage 1, stage 2 and stage 3. UniMatch: `[64, 96, 128]`. */
  dims?: readonly [number, number, number];
  /** Output channels of the final 1×1 conv. UniMatch: 128. */
  outputDim?: number;
}

/**
 * The spatial-aware encoder: UniMatch's `CNNEncoder` (one output scale, 1/8 resolution).
 *
 * `conv1` 7×7/2 (no bias) → IN → ReLU; `layer1` 2 blocks at 1/2; `layer2` 2 blocks, the first
 * stride 2 (1/4); `layer3` 2 blocks, the first stride 2 (1/8); `conv2` 1×1 with bias. InstanceNorms
 * carry no parameters. Conv weights start kaiming-normal (fan_out, relu), conv biases as PyTorch's
 * default. With the default widths it has 1,049,120 parameters, named as in UniMatch's checkpoints
 * without the `backbone.` prefix (`conv1.weight`, `layer1.0.conv1.weight`, `layer2.0.downsample.0.bias`,
 * ..., `conv2.weight`, `conv2.bias`).
 *
 * Input is NOT normalised here (UniMatch normalises in its data loader for depth): apply `@cvm/nn`'s
 * `normalizeImage` (ImageNet statistics) first, or use `CrossViewModule`, which does.
 *
 * @example
 * const encoder = new SpatialEncoder();
 * encoder.forward(normalizeImage(tf.zeros([2, 64, 96, 3]))).shape; // [2, 8, 12, 128] (normalizeImage from @cvm/nn)
 */
export class SpatialEncoder extends Module {
  readonly dims: readonly [number, number, number];
  readonly outputDim: number;
  readonly conv1: Conv2d;
  readonly norm1: InstanceNorm2d;
  readonly layer1: ModuleList<ResidualBlock>;
  readonly layer2: ModuleList<ResidualBlock>;
  readonly layer3: ModuleList<ResidualBlock>;
  readonly conv2: Conv2d;

  constructor({ dims = [64, 96, 128], outputDim = 128 }: SpatialEncoderOptions = {}) {
    super();
    if (dims.length !== 3 || !dims.every((d) => Number.isInteger(d) && d > 0)) {
      throw new Error(`SpatialEncoder: dims must be three positive integers, got ${JSON.stringify(dims)}`);
    }
    this.dims = dims;
    this.outputDim = outputDim;
    const [d1, d2, d3] = dims;
    this.conv1 = this.registerModule('conv1', new Conv2d(3, d1, 7, { stride: 2, padding: 3, bias: false }));
    this.norm1 = this.registerModule('norm1', new InstanceNorm2d(d1));
    const stage = (inPlanes: number, planes: number, stride: number) =>
      new ModuleList([new ResidualBlock(inPlanes, planes, stride), new ResidualBlock(planes, planes, 1)]);
    this.layer1 = this.registerModule('layer1', stage(d1, d1, 1));
    this.layer2 = this.registerModule('layer2', stage(d1, d2, 2));
    this.layer3 = this.registerModule('layer3', stage(d2, d3, 2));
    this.conv2 = this.registerModule('conv2', new Conv2d(d3, outputDim, 1));
    for (const [, m] of this.namedModules()) {
      if (m instanceof Conv2d) initParameter(m.weight, kaimingNormal(m.weight.shape));
    }
  }

  /**
   * @param x `[B,H,W,3]` normalised images
   * @returns `[B,H8,W8,outputDim]`, `H8 = ceil(ceil(ceil(H/2)/2)/2)` (= H/8 when 8 divides H)
   */
  forward(x: tf.Tensor): tf.Tensor4D {
    if (x.rank !== 4 || x.shape[3] !== 3) {
      throw new Error(`SpatialEncoder: input must be [B,H,W,3], got [${x.shape}]`);
    }
    return tf.tidy(() => this.steps().reduce((y: tf.Tensor, stage) => stage(y), x) as tf.Tensor4D);
  }

  /**
   * `forward` in pieces applied in order: the stem (`conv1`, norm, ReLU), then one per residual block,
   * `conv2` with the last. The cut points of activation checkpointing.
   */
  steps(): ((x: tf.Tensor) => tf.Tensor4D)[] {
    const blocks = [...this.layer1, ...this.layer2, ...this.layer3];
    const last = blocks.length - 1;
    return [
      (x) => tf.tidy(() => tf.relu(this.norm1.forward(this.conv1.forward(x))) as tf.Tensor4D),
      ...blocks.map(
        (block, i) => (x: tf.Tensor) =>
          i === last ? tf.tidy(() => this.conv2.forward(block.forward(x))) : block.forward(x),
      ),
    ];
  }
}
