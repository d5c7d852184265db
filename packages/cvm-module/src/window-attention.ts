import { positionEmbeddingSine, rearrangement, roll, shiftedWindowMask } from '@cvm/nn';
import * as tf from '@tensorflow/tfjs-core';

/** Options of `multiViewWindowAttention`. */
export interface MultiViewWindowAttentionOptions {
  /** Number of views `V`; inputs stack the views along the batch axis, view-major (`v·B + b`). */
  views: number;
  /** Windows per side `K` (UniMatch's `attn_splits`): the map is cut into `K×K` windows. */
  splits: number;
  /** Swin shift by half a window (`floor(win/2)`) with the −100 region mask (odd blocks). */
  shift: boolean;
  /** Attention heads (channels split into contiguous groups, scale `1/√(C/heads)`). Default 1. */
  heads?: number;
  /**
   * `false`: each view attends to itself (self-attention). `true`: each view's query window attends
   * jointly (one softmax) to the same window of all other views (needs `V ≥ 2`).
   */
  crossView: boolean;
}

/** `[numWindows, Lw, Lw]` −100/0 mask of a `H×W` map cut into `splits×splits` shifted windows. */
function shiftMask(h: number, w: number, splits: number): tf.Tensor3D {
  const winH = h / splits;
  const winW = w / splits;
  return shiftedWindowMask(h, w, [winH, winW], [Math.floor(winH / 2), Math.floor(winW / 2)]);
}

/**
 * Swin-style window attention over several views at once, as in UniMatch (2 views) and MVSplat /
 * DepthSplat (N views), on already projected queries, keys and values.
 *
 * The map is rolled by `−floor(win/2)` when `shift` is set, cut into `splits×splits` windows, attended
 * window by window with scores `q·kᵀ/√d`, merged and rolled back. For cross-view attention the keys of
 * a query window are the same window of every other view, laid out position-major with the view
 * fastest (key index `pos·(V−1) + j`, MVSplat's layout), and the −100 shift mask is expanded to match
 * that layout (`repeat_interleave` over views). MVSplat/DepthSplat tile it instead (`repeat(1,1,V−1)`),
 * which pairs keys with the wrong mask entries when `V > 2`; this function does not copy that.
 * Because the mask follows the keys, the result does not depend on the order of the other views.
 *
 * @param q `[V·B, H, W, C]` queries (view-major batch)
 * @param k `[V·B, H, W, C]` keys
 * @param v `[V·B, H, W, C]` values
 * @returns `[V·B, H, W, C]` messages (before the output projection)
 * @example
 * const x = tf.randomNormal([3 * 1, 8, 12, 32]); // 3 views, batch 1
 * multiViewWindowAttention(x, x, x, { views: 3, splits: 2, shift: true, crossView: true }).shape; // [3, 8, 12, 32]
 */
export function multiViewWindowAttention(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  { views, splits, shift, heads = 1, crossView }: MultiViewWindowAttentionOptions,
): tf.Tensor4D {
  if (q.rank !== 4 || k.rank !== 4 || v.rank !== 4) {
    throw new Error(
      `multiViewWindowAttention: q, k, v must be [V·B,H,W,C], got [${q.shape}], [${k.shape}], [${v.shape}]`,
    );
  }
  if (q.shape.join() !== k.shape.join() || q.shape.join() !== v.shape.join()) {
    throw new Error(`multiViewWindowAttention: q [${q.shape}], k [${k.shape}], v [${v.shape}] must match`);
  }
  const [vb, h, w, c] = q.shape;
  if (!Number.isInteger(views) || views < 1 || vb % views !== 0) {
    throw new Error(`multiViewWindowAttention: views=${views} must divide the batch axis ${vb}`);
  }
  if (crossView && views < 2)
    throw new Error('multiViewWindowAttention: cross-view attention needs >= 2 views');
  if (!Number.isInteger(splits) || splits < 1 || h % splits !== 0 || w % splits !== 0) {
    throw new Error(
      `multiViewWindowAttention: a ${h}x${w} map is not divisible into ${splits}x${splits} windows`,
    );
  }
  if (!Number.isInteger(heads) || heads < 1 || c % heads !== 0) {
    throw new Error(`multiViewWindowAttention: heads=${heads} must divide the ${c} channels`);
  }
  const b = vb / views;
  const k2 = splits * splits;
  const winH = h / splits;
  const winW = w / splits;
  const lw = winH * winW;
  const d = c / heads;
  const doShift = shift && splits > 1;
  const sh = Math.floor(winH / 2);
  const sw = Math.floor(winW / 2);
  // Window partition and merge as rearrangements: autodiff keeps none of their slices.
  const identity = (t: tf.Tensor) => t;
  const partition =
    splits === 1
      ? identity
      : rearrangement(
          (t) => partitionWindowMajor(t as tf.Tensor4D, splits),
          (t) => reverseWindowMajor(t as tf.Tensor4D, splits),
        );
  const merge =
    splits === 1
      ? identity
      : rearrangement(
          (t) => reverseWindowMajor(t as tf.Tensor4D, splits),
          (t) => partitionWindowMajor(t as tf.Tensor4D, splits),
        );
  return tf.tidy(() => {
    // Window-major layout [K², V·B, L, C] keeps every tensor at rank ≤ 4 (WebGPU shaders stop at vec4).
    const windows = (t: tf.Tensor) => {
      const rolled = doShift ? roll(t, [-sh, -sw], [1, 2]) : t;
      return tf.reshape(partition(rolled), [k2, vb, lw, c]);
    };
    const [qw, kw, vw] = [windows(q), windows(k), windows(v)];
    const others = views - 1;
    const gatherKeys = (t: tf.Tensor): tf.Tensor => {
      if (!crossView) return t;
      // view i's windows [K²·B, Lw, C]
      const perView = tf.split(t, views, 1).map((x) => tf.reshape(x, [k2 * b, lw, c]));
      const rows = perView.map((_, i) => {
        const rest = perView.filter((_, j) => j !== i);
        // [K²·B, Lw, V−1, C] → position-major, view fastest
        return tf.reshape(tf.stack(rest, 2), [k2, b, lw * others, c]);
      });
      return tf.concat(rows, 1);
    };
    const lk = crossView ? lw * others : lw;
    // [K², V·B, L, heads·d] → [K², V·B·heads, L, d]
    const splitHeads = (t: tf.Tensor, len: number) =>
      heads === 1
        ? t
        : tf.reshape(tf.transpose(tf.reshape(t, [k2 * vb, len, heads, d]), [0, 2, 1, 3]), [
            k2,
            vb * heads,
            len,
            d,
          ]);
    const qh = splitHeads(qw, lw);
    const kh = splitHeads(gatherKeys(kw), lk);
    const vh = splitHeads(gatherKeys(vw), lk);
    // Scaling q rather than the scores: the tape then holds no extra [Lw, Lk] tensor per window.
    let scores = tf.matMul(tf.mul(qh, 1 / Math.sqrt(d)), kh, false, true);
    if (doShift) {
      let mask: tf.Tensor = shiftMask(h, w, splits);
      if (crossView && others > 1) {
        // mask[w, q, pos] → mask[w, q, pos·(V−1) + j] (repeat_interleave along the keys)
        mask = tf.reshape(tf.tile(tf.expandDims(mask, 3), [1, 1, 1, others]), [k2, lw, lk]);
      }
      scores = tf.add(scores, tf.reshape(mask, [k2, 1, lw, lk]));
    }
    let out = tf.matMul(tf.softmax(scores), vh); // [K², V·B·heads, Lw, d]
    if (heads > 1) {
      out = tf.transpose(tf.reshape(out, [k2 * vb, heads, lw, d]), [0, 2, 1, 3]);
    }
    const merged = merge(tf.reshape(out, [k2 * vb, winH, winW, c])) as tf.Tensor4D;
    return (doShift ? roll(merged, [sh, sw], [1, 2]) : merged) as tf.Tensor4D;
  });
}

/**
 * `[N,H,W,C]` → `[K²·N, H/K, W/K, C]` with window `ky·K + kx` outermost (window-major; UniMatch's
 * `split_feature` is batch-major). Built from slices, so no tensor exceeds rank 4.
 */
function partitionWindowMajor(x: tf.Tensor4D, splits: number): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const wh = h / splits;
  const ww = w / splits;
  const parts: tf.Tensor4D[] = [];
  for (let ky = 0; ky < splits; ky++) {
    for (let kx = 0; kx < splits; kx++) parts.push(tf.slice(x, [0, ky * wh, kx * ww, 0], [n, wh, ww, c]));
  }
  return parts.length === 1 ? parts[0] : tf.concat(parts, 0);
}

/** Inverse of `partitionWindowMajor`: `[K²·N, h, w, C]` → `[N, K·h, K·w, C]`. */
function reverseWindowMajor(windows: tf.Tensor4D, splits: number): tf.Tensor4D {
  if (splits === 1) return windows;
  const parts = tf.split(windows, splits * splits, 0);
  const rows: tf.Tensor4D[] = [];
  for (let ky = 0; ky < splits; ky++)
    rows.push(tf.concat(parts.slice(ky * splits, (ky + 1) * splits), 2) as tf.Tensor4D);
  return tf.concat(rows, 1);
}

/**
 * The window-local DETR sine position encoding UniMatch adds once before the transformer
 * (`feature_add_position`): with `splits > 1` every window gets the encoding of a `H/K × W/K` map
 * (positions relative to the window), otherwise the whole map's.
 * @param height `H`, @param width `W` (divisible by `splits`), @param channels `C` (even)
 * @returns `[1, H, W, C]`
 * @example
 * windowPositionEncoding(56, 72, 128, 2).shape; // [1, 56, 72, 128]
 */
export function windowPositionEncoding(
  height: number,
  width: number,
  channels: number,
  splits: number,
): tf.Tensor4D {
  if (height % splits !== 0 || width % splits !== 0) {
    throw new Error(
      `windowPositionEncoding: a ${height}x${width} map is not divisible into ${splits}x${splits} windows`,
    );
  }
  return tf.tidy(() => {
    const pe = positionEmbeddingSine(height / splits, width / splits, channels / 2);
    return splits > 1 ? tf.tile(pe, [1, splits, splits, 1]) : pe;
  });
}
