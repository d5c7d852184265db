import { Conv2d, Linear, Module, truncNormal } from '@cvm/nn';
import * as tf from '@tensorflow/tfjs-core';

/** timm / DINOv3 `PatchEmbed`: a `p × p`, stride-`p` conv (child `proj`); sizes not divisible by `p` are floored. */
export class PatchEmbed extends Module {
  readonly proj: Conv2d;
  constructor(
    readonly patchSize: number,
    embedDim: number,
  ) {
    super();
    this.proj = this.registerModule('proj', new Conv2d(3, embedDim, patchSize, { stride: patchSize }));
  }
  /** @param x `[B, H, W, 3]` @returns `[B, floor(H/p), floor(W/p), D]` */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return this.proj.forward(x);
  }
}

/**
 * Splits `[B, H, W, C]` into non-overlapping `p × p` patches flattened in `(c, y, x)` order, as RADIO's
 * `Im2Patches` does (so `embedder.weight` reshaped to `[D, C, p, p]` is a conv kernel).
 * @returns `[B, (H/p)·(W/p), C·p·p]`, patches row-major
 */
export function imageToPatches(x: tf.Tensor4D, p: number): tf.Tensor3D {
  const [b, h, w, c] = x.shape;
  if (h % p !== 0 || w % p !== 0) {
    throw new Error(`imageToPatches: image size ${h}x${w} must be a multiple of the patch size ${p}`);
  }
  return tf.tidy(() => {
    const gh = h / p;
    const gw = w / p;
    const t = tf.transpose(tf.reshape(x, [b, gh, p, gw, p, c]), [0, 1, 3, 5, 2, 4]);
    return tf.reshape(t, [b, gh * gw, c * p * p]) as tf.Tensor3D;
  });
}

/** RADIO's `ClsToken`: `token` `[numClassTokens + numRegisters, D]` prepended to every sequence. */
export class ClassTokens extends Module {
  readonly token: tf.Variable;
  constructor(count: number, embedDim: number) {
    super();
    this.token = this.registerParameter('token', truncNormal([count, embedDim], { std: 0.02 }));
  }
}

/**
 * RADIO's `ViTPatchGenerator` at inference: linear patch embedding of `(c, y, x)` patches (`embedder`,
 * no bias), CPE position embedding (`pos_embed` `[1, M², D]`), then the class and register tokens
 * (`cls_token.token`) prepended without position.
 */
export class PatchGenerator extends Module {
  readonly embedder: Linear;
  readonly pos_embed: tf.Variable;
  readonly cls_token: ClassTokens;

  constructor(
    readonly patchSize: number,
    readonly embedDim: number,
    readonly maxGrid: number,
    numPrefix: number,
  ) {
    super();
    this.embedder = this.registerModule(
      'embedder',
      new Linear(3 * patchSize * patchSize, embedDim, { bias: false }),
    );
    this.pos_embed = this.registerParameter(
      'pos_embed',
      truncNormal([1, maxGrid * maxGrid, embedDim], { std: 0.02 }),
    );
    this.cls_token = this.registerModule('cls_token', new ClassTokens(numPrefix, embedDim));
  }

  /**
   * CPE at inference (`_get_pos_embeddings`, eval, cpe mode): the `M × M` grid as is when the input grid
   * is `M × M`, else bilinearly resized to `m × m` with `m = max(gh, gw)` and cropped to the top-left
   * `gh × gw` window.
   * @returns `[1, gh·gw, D]`
   */
  positions(gh: number, gw: number): tf.Tensor3D {
    return tf.tidy(() => {
      const m = this.maxGrid;
      if (gh === m && gw === m) return tf.clone(this.pos_embed) as tf.Tensor3D;
      const grid = tf.reshape(this.pos_embed, [1, m, m, this.embedDim]) as tf.Tensor4D;
      const side = Math.max(gh, gw);
      const resized = tf.image.resizeBilinear(grid, [side, side], false, true);
      const window = tf.slice(resized, [0, 0, 0, 0], [1, gh, gw, this.embedDim]);
      return tf.reshape(window, [1, gh * gw, this.embedDim]) as tf.Tensor3D;
    });
  }

  /** @param x `[B, H, W, 3]` (H, W multiples of p) @returns `[B, prefix + gh·gw, D]` and the grid */
  forward(x: tf.Tensor4D): { tokens: tf.Tensor3D; grid: [number, number] } {
    const p = this.patchSize;
    const gh = x.shape[1] / p;
    const gw = x.shape[2] / p;
    const tokens = tf.tidy(() => {
      const patches = tf.add(this.embedder.forward(imageToPatches(x, p)), this.positions(gh, gw));
      const b = x.shape[0];
      const prefix = tf.tile(tf.expandDims(this.cls_token.token, 0), [b, 1, 1]);
      return tf.concat([prefix, patches], 1) as tf.Tensor3D;
    });
    return { tokens, grid: [gh, gw] };
  }
}

/**
 * Resamples the patch part of a learned position embedding from `from` to `to` grids, bilinearly
 * (PyTorch `F.interpolate(mode='bilinear', align_corners=False)`, no antialias); prefix entries are kept.
 * @param posEmbed `[1, prefix + fh·fw, D]`
 * @returns `[1, prefix + th·tw, D]`
 */
export function resampleAbsPosEmbed(
  posEmbed: tf.Tensor,
  from: readonly [number, number],
  to: readonly [number, number],
  prefix: number,
): tf.Tensor3D {
  return tf.tidy(() => {
    const d = posEmbed.shape[2] as number;
    if (from[0] === to[0] && from[1] === to[1]) return tf.clone(posEmbed) as tf.Tensor3D;
    const [head, body] = tf.split(posEmbed, [prefix, from[0] * from[1]], 1);
    const grid = tf.reshape(body, [1, from[0], from[1], d]) as tf.Tensor4D;
    const resized = tf.reshape(tf.image.resizeBilinear(grid, [to[0], to[1]], false, true), [
      1,
      to[0] * to[1],
      d,
    ]);
    return (prefix > 0 ? tf.concat([head, resized], 1) : resized) as tf.Tensor3D;
  });
}
