import { type CostVolumeImplementation, costVolume } from '@cvm/cost-volume';
import { DEPTH_PRESETS, type DepthRange, inverseDepthCandidatesData } from '@cvm/geometry';
import {
  ImageRangeCheck,
  initParameter,
  Module,
  normalizeImage,
  type Segment,
  SwiGLU,
  xavierUniform,
  zeros,
} from '@cvm/nn';
import * as tf from '@tensorflow/tfjs-core';
import { type MultiViewBatch, splitMultiViewBatch } from './batch.js';
import {
  type CvmCameras,
  type FeatureCameras,
  identityCameras,
  readCameras,
  relativePoses,
} from './cameras.js';
import { MultiViewTransformer } from './multiview-transformer.js';
import { SpatialEncoder } from './spatial-encoder.js';
import { ConvexUpsampler, PixelShuffleUpsampler, type UpsamplerKind } from './upsampler.js';

/**
 * What the module outputs (the paper's Tab. A15):
 * - `'full'`: cross-view features and cost volume (CvM);
 * - `'noCostVolume'`: cross-view features only ("Ours w/o CV");
 * - `'noCrossViewFeatures'`: cost volume only ("Ours w/o CF"; the transformer still builds the features
 *   the cost volume correlates);
 * - `'selfAttentionOnly'`: the capacity baseline: the same encoder, blocks and adapter, with every
 *   cross-view layer attending to its own view instead (identical parameter shapes), no cost volume,
 *   no cameras. Each view is processed on its own.
 */
export type CvmMode = 'full' | 'noCostVolume' | 'noCrossViewFeatures' | 'selfAttentionOnly';

const MODES: readonly CvmMode[] = ['full', 'noCostVolume', 'noCrossViewFeatures', 'selfAttentionOnly'];

/** Configuration of `CrossViewModule`; every default is the paper's size. */
export interface CrossViewModuleConfig {
  /** Spatial-encoder widths (UniMatch `[64, 96, 128]`). */
  encoderDims?: readonly [number, number, number];
  /** Feature width `C` of the encoder output, transformer and adapter. Default 128. */
  featureChannels?: number;
  /** Transformer blocks. Default 6. */
  numLayers?: number;
  /** Attention heads. Default 1. */
  heads?: number;
  /** Attention windows per side at 1/8 resolution. Default 2. */
  attnSplits?: number;
  /** FFN expansion of the cross-attention layers (hidden `2C·e`). Default 4. */
  ffnExpansion?: number;
  /** Drop the last cross-attention layer's output LayerNorm (paper). Default true. */
  removeFinalNorm?: boolean;
  /**
   * Hidden width of the residual SwiGLU adapter `x + w3(silu(w1 x) ⊙ w2 x)`; 0 disables it.
   * Default 256 (2C): 98,944 parameters, which brings the module to 4.93 M, the paper's "~5 M".
   */
  adapterHidden?: number;
  /**
   * Depth candidates: a preset name of `DEPTH_PRESETS` or `{near, far, count}`. Default `'indoor'`
   * (0.5–10 m, L = 128). The paper's `'nyuv2Paper'` (0.0001–10 m) puts all but the farthest plane or
   * two closer than 1.3 cm, where they project outside the neighbour image at indoor baselines and read
   * zeros; it is kept selectable for reproduction.
   */
  depthRange?: keyof typeof DEPTH_PRESETS | DepthRange;
  /** `'convex'` (default) or `'pixelShuffle'`. */
  upsampler?: UpsamplerKind;
  /** Hidden width of the upsampler's 3×3 conv. Default 256. */
  upsamplerHidden?: number;
  mode?: CvmMode;
  /**
   * Inputs whose size is not a multiple of `8·attnSplits`: `'pad'` (default) pads the images at the
   * bottom/right by edge replication (intrinsics unchanged), and crops the outputs back to
   * `ceil(H/2)×ceil(W/2)`; `'error'` throws instead.
   */
  sizePolicy?: 'pad' | 'error';
  /** Passed to `costVolume` (`'auto'` uses the backend's fused kernel when there is one). */
  costVolumeImplementation?: CostVolumeImplementation;
  /**
   * Check that images are in `[0,1]` (`@cvm/nn`'s `ImageRangeCheck`): on cpu / wasm / tfjs-node a bad
   * input throws at once; on WebGPU / WebGL the min and max are read asynchronously (no GPU stall)
   * and the next call throws. Default true.
   */
  checkInputRange?: boolean;
}

/**
 * An inference-time ablation of a trained module (`forward`'s / `forwardWithIntermediates`'
 * `options.ablate`): the named part of the upsampler's input is replaced by zeros, its neutral value (no
 * feature, no matching evidence), so one checkpoint shows what each part contributes. `'costVolume'`:
 * the cost volume channels; `'crossViewFeatures'`: the cross-view feature channels. Unlike the `mode`s
 * `noCostVolume` / `noCrossViewFeatures` (architectures trained without the part), the weights see
 * an input they were not trained on.
 */
export type CvmPartAblation = 'costVolume' | 'crossViewFeatures';

/** Everything `forwardWithIntermediates` returns; one tensor per input view, owned by the caller. */
export interface CvmIntermediates {
  /** `[B, ceil(H/2), ceil(W/2), outChannels]`: the module's outputs. */
  outputs: tf.Tensor4D[];
  /** `[B, Hp/8, Wp/8, C]`: cross-view features after the adapter (`Hp`, `Wp` padded sizes). */
  features: tf.Tensor4D[];
  /** `[B, Hp/8, Wp/8, L]`: cost volumes (empty in modes without one). */
  costVolumes: tf.Tensor4D[];
}

/** The encoder's total stride. */
export const FEATURE_STRIDE = 8;

/**
 * The Cross-view Module (CvM): images of `V` views of a scene plus their cameras in, per-view 3D-aware
 * features at 1/2 resolution out, ready to concatenate with an MTL encoder's features.
 *
 * 1. Spatial-aware encoder (`backbone`, UniMatch's CNN) on `[0,1]` RGB, which the module normalises
 *    with ImageNet statistics (exactly once: pass images in `[0,1]`, never normalised) → `C` @ 1/8.
 * 2. Multi-view transformer (`transformer`, 6 blocks of window self-attention + cross-view attention),
 *    the last block's FFN output norm removed, then a residual SwiGLU adapter (`adapter`).
 * 3. Cost volume: each view in turn as reference against the mean of the others, `L` inverse-depth
 *    candidates, intrinsics scaled to 1/8 (`@cvm/cost-volume`).
 * 4. A learned 4× upsampler (`upsampler`) applied to `concat[features, costVolume]` of every view.
 *
 * One view alone is the paper's single-view setting: the image paired with a copy of itself under
 * identity intrinsics and pose, so the warp is the identity and the cost volume is constant over depth.
 * The copy's stream is identical to the view's, so it is not computed: one view costs half of two.
 *
 * Parameter names: `backbone.*` and `transformer.*` are UniMatch's (see `loadUniMatchWeights`),
 * `adapter.w1|w2|w3.weight|bias`, `upsampler.0|2.weight|bias`.
 *
 * @example
 * const cvm = new CrossViewModule(); // 4.93 M parameters
 * const [out0, out1] = cvm.forward([image0, image1], {   // images [B,448,576,3] in [0,1]
 *   intrinsics: [K, K],                                  // [3,3] in image pixels
 *   cameraToWorld: [c2w0, c2w1],                         // [4,4] OpenCV camera-to-world
 * }); // each [B,224,288,256] = 128 feature + 128 cost-volume channels
 * // A loader batch (`@cvm/datasets/tfjs` batchToTensors): images [B,V,H,W,3] in [0,1], cameras [B,V,..]
 * const outs = cvm.forwardBatch(batchToTensors(batch)); // one [B,H/2,W/2,256] per view
 */
export class CrossViewModule extends Module {
  readonly mode: CvmMode;
  readonly featureChannels: number;
  readonly attnSplits: number;
  readonly depthRange: DepthRange;
  readonly sizePolicy: 'pad' | 'error';
  readonly costVolumeImplementation: CostVolumeImplementation;
  /** Channels of each output: `C` (features) + `L` (cost volume), depending on the mode. */
  readonly outChannels: number;
  readonly backbone: SpatialEncoder;
  readonly transformer: MultiViewTransformer;
  readonly adapter: SwiGLU | null;
  readonly upsampler: ConvexUpsampler | PixelShuffleUpsampler;
  private readonly inverseDepths: Float32Array;
  private readonly rangeCheck: ImageRangeCheck | null;

  constructor(config: CrossViewModuleConfig = {}) {
    super();
    const {
      encoderDims = [64, 96, 128],
      featureChannels = 128,
      numLayers = 6,
      heads = 1,
      attnSplits = 2,
      ffnExpansion = 4,
      removeFinalNorm = true,
      adapterHidden = 2 * featureChannels,
      depthRange = 'indoor',
      upsampler = 'convex',
      upsamplerHidden = 256,
      mode = 'full',
      sizePolicy = 'pad',
      costVolumeImplementation = 'auto',
      checkInputRange = true,
    } = config;
    if (!MODES.includes(mode))
      throw new Error(`CrossViewModule: mode must be one of ${MODES.join(', ')}, got '${mode}'`);
    if (sizePolicy !== 'pad' && sizePolicy !== 'error') {
      throw new Error(`CrossViewModule: sizePolicy must be 'pad' or 'error', got '${sizePolicy}'`);
    }
    if (!Number.isInteger(adapterHidden) || adapterHidden < 0) {
      throw new Error(`CrossViewModule: adapterHidden must be an integer >= 0, got ${adapterHidden}`);
    }
    const range = typeof depthRange === 'string' ? DEPTH_PRESETS[depthRange] : depthRange;
    if (!range) {
      throw new Error(
        `CrossViewModule: unknown depthRange '${depthRange}' (presets: ${Object.keys(DEPTH_PRESETS).join(', ')})`,
      );
    }
    this.inverseDepths = Float32Array.from(inverseDepthCandidatesData(range.near, range.far, range.count));
    this.depthRange = { near: range.near, far: range.far, count: range.count };
    this.mode = mode;
    this.featureChannels = featureChannels;
    this.attnSplits = attnSplits;
    this.sizePolicy = sizePolicy;
    this.costVolumeImplementation = costVolumeImplementation;
    this.rangeCheck = checkInputRange ? new ImageRangeCheck() : null;
    this.outChannels = (this.usesFeatures ? featureChannels : 0) + (this.usesCostVolume ? range.count : 0);

    this.backbone = this.registerModule(
      'backbone',
      new SpatialEncoder({ dims: encoderDims, outputDim: featureChannels }),
    );
    this.transformer = this.registerModule(
      'transformer',
      new MultiViewTransformer({
        numLayers,
        dModel: featureChannels,
        heads,
        ffnExpansion,
        splits: attnSplits,
        removeFinalNorm,
        crossView: mode !== 'selfAttentionOnly',
      }),
    );
    this.adapter = null;
    if (adapterHidden > 0) {
      this.adapter = this.registerModule('adapter', new SwiGLU(featureChannels, adapterHidden));
      for (const lin of [this.adapter.w1, this.adapter.w2, this.adapter.w3]) {
        initParameter(lin.weight, xavierUniform(lin.weight.shape));
        if (lin.bias) initParameter(lin.bias, zeros(lin.bias.shape));
      }
    }
    const Up =
      upsampler === 'convex' ? ConvexUpsampler : upsampler === 'pixelShuffle' ? PixelShuffleUpsampler : null;
    if (!Up)
      throw new Error(`CrossViewModule: upsampler must be 'convex' or 'pixelShuffle', got '${upsampler}'`);
    this.upsampler = this.registerModule(
      'upsampler',
      new Up(this.outChannels, { factor: 4, hidden: upsamplerHidden }),
    );
  }

  /** Whether the outputs hold the cross-view features. */
  get usesFeatures(): boolean {
    return this.mode !== 'noCrossViewFeatures';
  }

  /** Whether a cost volume is built (and cameras are needed for more than one view). */
  get usesCostVolume(): boolean {
    return this.mode === 'full' || this.mode === 'noCrossViewFeatures';
  }

  /** The inverse-depth candidates, far → near (`[L]`, a copy). */
  get candidates(): Float32Array {
    return this.inverseDepths.slice();
  }

  /**
   * @param images one `[B,H,W,3]` float32 RGB image batch in `[0,1]` per view (all the same size; not
   *   normalised: the module normalises with ImageNet statistics); one view is the single-view setting
   * @param cameras intrinsics (input-image pixels) and camera-to-world poses, one per view; required
   *   with 2+ views when the mode builds a cost volume, ignored for a single view. Read on the CPU: on
   *   WebGPU pass arrays, not GPU tensors
   * @param options.ablate an inference-time ablation (`CvmPartAblation`)
   * @returns one `[B, ceil(H/2), ceil(W/2), outChannels]` map per view, channels `[features, costVolume]`
   */
  forward(
    images: readonly tf.Tensor[],
    cameras?: CvmCameras | null,
    options: { ablate?: CvmPartAblation | null } = {},
  ): tf.Tensor4D[] {
    const all = this.forwardWithIntermediates(images, cameras, options);
    tf.dispose([...all.features, ...all.costVolumes]);
    return all.outputs;
  }

  /**
   * `forward` on a loader batch: `@cvm/datasets/tfjs`'s `batchToTensors(batch)` fits `MultiViewBatch`
   * as it is (images `[B,V,H,W,3]` in `[0,1]`, intrinsics `[B,V,3,3]` in image pixels, camera-to-world
   * `[B,V,4,4]`; see `splitMultiViewBatch`). One view per sample is the single-view setting.
   * @returns one `[B, ceil(H/2), ceil(W/2), outChannels]` map per view, view 0 the reference
   */
  forwardBatch(batch: MultiViewBatch): tf.Tensor4D[] {
    const { images, cameras } = splitMultiViewBatch(batch);
    try {
      return this.forward(images, cameras);
    } finally {
      tf.dispose(images);
    }
  }

  /**
   * `forward`, also returning the 1/8-resolution cross-view features and cost volumes (as computed,
   * before any ablation).
   * @param options.ablate zero one part of the upsampler's input (see `CvmPartAblation`); it must be
   *   a part this module's mode uses
   */
  forwardWithIntermediates(
    images: readonly tf.Tensor[],
    cameras?: CvmCameras | null,
    options: { ablate?: CvmPartAblation | null } = {},
  ): CvmIntermediates {
    const ablate = options.ablate ?? null;
    if (ablate !== null) {
      if (ablate !== 'costVolume' && ablate !== 'crossViewFeatures')
        throw new Error(
          `options.ablate must be 'costVolume' or 'crossViewFeatures', got '${String(ablate)}'`,
        );
      const used = ablate === 'costVolume' ? this.usesCostVolume : this.usesFeatures;
      if (!used)
        throw new Error(`options.ablate: a module in mode '${this.mode}' has no ${ablate} to ablate`);
    }
    const plan = this.plan(images, cameras);
    return tf.tidy(() => {
      const x = plan.steps.reduce((y: tf.Tensor, step) => step(y), this.encoderInput(images, plan));
      const { stacked, features, costVolumes } = this.joinViews(x, plan, ablate);
      return { outputs: this.upsample(stacked, plan), features, costVolumes };
    });
  }

  /**
   * `forward` cut into segments for activation checkpointing (`checkpointedGradients` of `@cvm/nn`):
   * the encoder's stem and each of its residual blocks (view by view), each transformer layer (two per
   * block), the adapter with the cost volume, the upsampler's conv branch, then its full-resolution combination view by view. Running `segments` in order on `inputs` gives `forward(images,
   * cameras)`'s outputs (one per view), computed by the same code. Inputs are checked here, once.
   * @param images, @param cameras as `forward` takes them
   * @returns `inputs` (the images) and the segments
   * @example
   * const { inputs, segments } = cvm.forwardSegments([im0, im1], cams);
   * const loss: Segment = (outs) => [tf.addN(outs.map((o) => tf.mean(tf.square(o))))];
   * const { value, grads } = checkpointedGradients([...segments, loss], inputs, cvm.parameters());
   */
  forwardSegments(
    images: readonly tf.Tensor[],
    cameras?: CvmCameras | null,
  ): { inputs: tf.Tensor[]; segments: Segment[] } {
    const plan = this.plan(images, cameras);
    const { views } = plan;
    // The encoder is per sample (InstanceNorm), so it runs view by view: its 1/2-resolution
    // activations, the largest of a segment, are halved. State: one map per view, then stacked.
    const steps = this.backbone.steps();
    const encoder = steps.flatMap((step, j) =>
      Array.from(
        { length: views },
        (_, v): Segment =>
          (state) =>
            state.map((t, u) =>
              u !== v ? t : j === 0 ? step(this.encoderInput([t], { ...plan, views: 1 })) : step(t),
            ),
      ),
    );
    return {
      inputs: [...images],
      segments: [
        ...encoder,
        ...(views > 1 ? [(xs: readonly tf.Tensor[]) => [tf.concat([...xs], 0)]] : []),
        ...this.transformer.layerSegments(plan.views, plan.featureH, plan.featureW),
        ([x]) => [this.joinViews(x, plan).stacked],
        ([stacked]) => [stacked, this.upsampler.predict(stacked as tf.Tensor4D)],
        // The full-resolution part view by view (it is per sample): the largest tensors, halved.
        ...Array.from(
          { length: plan.views },
          (_, v): Segment =>
            (state) => {
              const [stacked, predicted, ...done] = state;
              const out = this.upsampleView(stacked as tf.Tensor4D, predicted as tf.Tensor4D, v, plan);
              return v === plan.views - 1 ? [...done, out] : [stacked, predicted, ...done, out];
            },
        ),
      ],
    };
  }

  /** Checks the inputs and cameras once; what the pieces of a forward pass share. */
  private plan(images: readonly tf.Tensor[], cameras?: CvmCameras | null): ForwardPlan {
    const { batch, height, width } = this.checkImages(images);
    if (this.rangeCheck) for (const [v, im] of images.entries()) this.rangeCheck.check(im, `images[${v}]`);
    const views = images.length;
    const single = views === 1 && this.mode !== 'selfAttentionOnly';
    let cams: FeatureCameras | null = null;
    if (this.usesCostVolume) {
      cams = single ? identityCameras(2, batch) : readCameras(cameras, views, batch, FEATURE_STRIDE);
    } else if (cameras != null && !single && this.mode !== 'selfAttentionOnly') {
      readCameras(cameras, views, batch, FEATURE_STRIDE); // validate what was given
    }
    const multiple = FEATURE_STRIDE * this.attnSplits;
    const padH = (multiple - (height % multiple)) % multiple;
    const padW = (multiple - (width % multiple)) % multiple;
    if ((padH || padW) && this.sizePolicy === 'error') {
      throw new Error(
        `images: ${height}x${width} is not a multiple of ${multiple} (8 × attnSplits ${this.attnSplits}); resize, or use sizePolicy 'pad'`,
      );
    }
    // The transformer's blocks run on the encoder output of all views stacked along the batch axis.
    // One view with cross-view attention: the transformer pairs it with its own copy (computed once).
    const featureH = (height + padH) / FEATURE_STRIDE;
    const featureW = (width + padW) / FEATURE_STRIDE;
    const steps = [...this.backbone.steps(), ...this.transformer.blockSteps(views, featureH, featureW)];
    return {
      featureH,
      featureW,
      views,
      single,
      cams,
      padH,
      padW,
      outH: Math.ceil(height / 2),
      outW: Math.ceil(width / 2),
      steps,
    };
  }

  /** `[V·B,Hp,Wp,3]`: the views stacked along the batch axis, normalised and padded. */
  private encoderInput(images: readonly tf.Tensor[], { views, padH, padW }: ForwardPlan): tf.Tensor4D {
    return tf.tidy(() => {
      const x = normalizeImage(views === 1 ? images[0] : tf.concat([...images], 0)) as tf.Tensor4D;
      return padH || padW ? padEdge(x, padH, padW) : x;
    });
  }

  /**
   * From the transformer's output `[V·B,h,w,C]`: each view's features after the adapter, its cost
   * volume, and `stacked`, their channel concat (what the mode keeps) for all views `[V·B,h,w,out]`.
   */
  private joinViews(
    x: tf.Tensor,
    { views, single, cams }: ForwardPlan,
    ablate: CvmPartAblation | null = null,
  ): { stacked: tf.Tensor4D; features: tf.Tensor4D[]; costVolumes: tf.Tensor4D[] } {
    return tf.tidy(() => {
      let features = (views === 1 ? [x] : tf.split(x, views, 0)) as tf.Tensor4D[];
      if (this.adapter) {
        const adapter = this.adapter;
        features = features.map((f) => tf.add(f, adapter.forward(f)) as tf.Tensor4D);
      }
      // Single view: the view against its copy (the same features), as reference only.
      const costVolumes = cams
        ? this.costVolumes(single ? [features[0], features[0]] : features, cams, views)
        : [];
      const parts = features.map((f, v) => {
        const chans: tf.Tensor[] = [];
        if (this.usesFeatures) chans.push(ablate === 'crossViewFeatures' ? tf.zerosLike(f) : f);
        if (this.usesCostVolume)
          chans.push(ablate === 'costVolume' ? tf.zerosLike(costVolumes[v]) : costVolumes[v]);
        return chans.length === 1 ? chans[0] : tf.concat(chans, 3);
      });
      const stacked = (views === 1 ? parts[0] : tf.concat(parts, 0)) as tf.Tensor4D;
      return { stacked, features, costVolumes };
    });
  }

  /** The upsampler on `[V·B,h,w,out]`, cropped to the input's half size: one output per view. */
  private upsample(stacked: tf.Tensor4D, plan: ForwardPlan): tf.Tensor4D[] {
    return tf.tidy(() => {
      const cropped = cropToOutput(this.upsampler.forward(stacked), plan);
      return (plan.views === 1 ? [cropped] : tf.split(cropped, plan.views, 0)) as tf.Tensor4D[];
    });
  }

  /** `upsample`'s output for view `v` alone, from `stacked` and the upsampler's `predict(stacked)`. */
  private upsampleView(
    stacked: tf.Tensor4D,
    predicted: tf.Tensor4D,
    v: number,
    plan: ForwardPlan,
  ): tf.Tensor4D {
    return tf.tidy(() => {
      const b = stacked.shape[0] / plan.views;
      const view = (t: tf.Tensor4D) =>
        plan.views === 1 ? t : tf.slice(t, [v * b, 0, 0, 0], [b, -1, -1, -1]);
      return cropToOutput(this.upsampler.combine(view(stacked), view(predicted)), plan);
    });
  }

  /** Each of the first `references` views as reference against the mean of all others. */
  private costVolumes(features: tf.Tensor4D[], cams: FeatureCameras, references: number): tf.Tensor4D[] {
    return features.slice(0, references).map((ref, v) => {
      const others = features.map((_, u) => u).filter((u) => u !== v);
      return costVolume(
        ref,
        others.map((u) => features[u]),
        {
          intrinsics: { reference: cams.intrinsics[v], neighbours: others.map((u) => cams.intrinsics[u]) },
          poses: others.map((u) => relativePoses(cams.cameraToWorld[v], cams.cameraToWorld[u])),
          inverseDepths: this.inverseDepths,
          implementation: this.costVolumeImplementation,
        },
      );
    });
  }

  private checkImages(images: readonly tf.Tensor[]): { batch: number; height: number; width: number } {
    if (!Array.isArray(images))
      throw new Error('images: expected an array with one [B,H,W,3] tensor per view');
    if (images.length === 0) throw new Error('images: no views given (need at least one [B,H,W,3] image)');
    const first = images[0];
    images.forEach((im, v) => {
      if (!(im instanceof tf.Tensor)) throw new Error(`images[${v}]: expected a tf.Tensor [B,H,W,3]`);
      if (im.rank !== 4) throw new Error(`images[${v}]: expected rank 4 [B,H,W,3], got shape [${im.shape}]`);
      if (im.shape[3] !== 3) throw new Error(`images[${v}]: expected 3 (RGB) channels, got ${im.shape[3]}`);
      if (im.dtype !== 'float32') throw new Error(`images[${v}]: expected float32 in [0,1], got ${im.dtype}`);
      if (im.shape[0] !== first.shape[0]) {
        throw new Error(`images[${v}]: batch size ${im.shape[0]} differs from images[0] (${first.shape[0]})`);
      }
      if (im.shape[1] !== first.shape[1] || im.shape[2] !== first.shape[2]) {
        throw new Error(
          `images[${v}]: size ${im.shape[1]}x${im.shape[2]} differs from images[0] (${first.shape[1]}x${first.shape[2]}); all views must have the same size`,
        );
      }
    });
    const [batch, height, width] = first.shape;
    if (height < 16 || width < 16)
      throw new Error(`images: at least 16x16 pixels needed, got ${height}x${width}`);
    return { batch, height, width };
  }
}

/** What `CrossViewModule.plan` settles for one forward pass. */
interface ForwardPlan {
  views: number;
  /** One view in a mode with cross-view attention: paired with its own copy. */
  single: boolean;
  cams: FeatureCameras | null;
  padH: number;
  padW: number;
  outH: number;
  outW: number;
  /** Size of the 1/8-resolution feature maps (of the padded images). */
  featureH: number;
  featureW: number;
  /** Encoder stages then transformer blocks, on the views stacked along the batch axis. */
  steps: ((x: tf.Tensor) => tf.Tensor4D)[];
}

/** Crops an upsampled `[B,Hp/2,Wp/2,C]` back to the input's half size `[B,ceil(H/2),ceil(W/2),C]`. */
function cropToOutput(up: tf.Tensor4D, { padH, padW, outH, outW }: ForwardPlan): tf.Tensor4D {
  return padH || padW ? tf.slice(up, [0, 0, 0, 0], [-1, outH, outW, -1]) : up;
}

/** Pads `[B,H,W,C]` at the bottom/right by repeating the last row/column (PyTorch's 'replicate'). */
function padEdge(x: tf.Tensor4D, padH: number, padW: number): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  let y: tf.Tensor4D = x;
  if (padH) y = tf.concat([y, tf.tile(tf.slice(y, [0, h - 1, 0, 0], [b, 1, w, c]), [1, padH, 1, 1])], 1);
  if (padW)
    y = tf.concat([y, tf.tile(tf.slice(y, [0, 0, w - 1, 0], [b, h + padH, 1, c]), [1, 1, padW, 1])], 2);
  return y;
}
