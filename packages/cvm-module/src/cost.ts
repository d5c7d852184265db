import { type CrossViewModule, FEATURE_STRIDE } from './cross-view-module.js';
import { ConvexUpsampler } from './upsampler.js';

/** Multiply-accumulates of one forward pass, per part (batch 1, all views). */
export interface CvmMacs {
  backbone: number;
  transformer: number;
  adapter: number;
  costVolume: number;
  upsampler: number;
  total: number;
}

const conv = (k: number, cin: number, cout: number, pixels: number) => k * k * cin * cout * pixels;

/**
 * Analytic multiply-accumulate count of `module.forward` for `views` images of `height×width`
 * (batch 1, sizes after padding to a multiple of `8·attnSplits`). FLOPs = 2 × MACs.
 *
 * Counted: every conv and linear (weights × output positions), both attention matmuls (`q·kᵀ`,
 * `attn·v`), the cost volume's bilinear gathers (4 taps × C per sample) and correlations (C per
 * sample) for every ordered (reference, neighbour) pair, the convex combination (9 taps × channels per
 * output pixel). Not counted (as fvcore and similar counters skip them): norms, activations, softmax,
 * residual adds, biases, the position encoding, the mean over neighbours and the warp coordinates.
 * A single view counts one stream whose cross-view keys are its own (the pair with its copy, computed
 * once) and one cost volume against itself.
 * @example
 * estimateMacs(new CrossViewModule(), { height: 448, width: 576, views: 2 }).total; // ≈ 9.1e10
 */
export function estimateMacs(
  module: CrossViewModule,
  { height, width, views }: { height: number; width: number; views: number },
): CvmMacs {
  const m = FEATURE_STRIDE * module.attnSplits;
  const hp = Math.ceil(height / m) * m;
  const wp = Math.ceil(width / m) * m;
  const single = views === 1 && module.mode !== 'selfAttentionOnly';
  const v = views;
  const p2 = (hp / 2) * (wp / 2);
  const p4 = p2 / 4;
  const p8 = p4 / 4;
  const [d1, d2, d3] = module.backbone.dims;
  const c = module.featureChannels;
  const backbone =
    v *
    (conv(7, 3, d1, p2) +
      4 * conv(3, d1, d1, p2) +
      conv(3, d1, d2, p4) +
      3 * conv(3, d2, d2, p4) +
      conv(1, d1, d2, p4) +
      conv(3, d2, d3, p8) +
      3 * conv(3, d3, d3, p8) +
      conv(1, d2, d3, p8) +
      conv(1, d3, c, p8));
  const t = module.transformer;
  const splits = t.splits;
  const lw = p8 / (splits * splits);
  const ffnHidden = t.layers.get(0).cross_attn_ffn.mlp?.fc1.outFeatures ?? 0;
  const keysCross = t.crossView && !single ? lw * (v - 1) : lw;
  const perToken = 8 * c * c + 2 * c * ffnHidden + c * ffnHidden + 2 * lw * c + 2 * keysCross * c;
  const transformer = v * p8 * t.numLayers * perToken;
  const adapter = module.adapter ? v * p8 * 3 * c * module.adapter.hiddenFeatures : 0;
  const l = module.depthRange.count;
  const pairs = single ? 1 : v * (v - 1); // ordered (reference, neighbour) pairs
  const costVolume = module.usesCostVolume ? pairs * p8 * l * 5 * c : 0;
  const up = module.upsampler;
  const cin = module.outChannels;
  const hidden = up.conv1.outChannels;
  const f2 = up.factor * up.factor;
  const upsampler =
    v *
    (conv(3, cin, hidden, p8) +
      (up instanceof ConvexUpsampler
        ? conv(1, hidden, 9 * f2, p8) + 9 * cin * p8 * f2
        : conv(1, hidden, cin * f2, p8)));
  const total = backbone + transformer + adapter + costVolume + upsampler;
  return { backbone, transformer, adapter, costVolume, upsampler, total };
}
