import * as tf from '@tensorflow/tfjs-core';
import { rearrangement } from './rearrangement.js';

type Pair = number | readonly [number, number];

function pair(fn: string, name: string, v: Pair, min: number): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (!p.every((n) => Number.isInteger(n) && n >= min)) {
    throw new Error(
      `${fn}: ${name} must be an integer >= ${min} or a pair of them, got ${JSON.stringify(v)}`,
    );
  }
  return p;
}

/**
 * Cuts NHWC maps into `sh × sw` equal windows (UniMatch's `split_feature`, channel-last): window
 * index `b·sh·sw + row·sw + col` (batch-major, then window-row, then window-col); tokens row-major
 * inside a window.
 * @param x `[B,H,W,C]` with `H % sh == 0`, `W % sw == 0`
 * @param numSplits `s` or `[sh, sw]`
 * @returns `[B·sh·sw, H/sh, W/sw, C]`
 * @example
 * windowPartition(tf.zeros([2, 8, 12, 16]), 2).shape; // [8, 4, 6, 16]
 */
export function windowPartition(x: tf.Tensor, numSplits: Pair): tf.Tensor4D {
  const [sh, sw] = pair('windowPartition', 'numSplits', numSplits, 1);
  if (x.rank !== 4) throw new Error(`windowPartition: x must be [B,H,W,C], got [${x.shape}]`);
  const [b, h, w, c] = x.shape;
  if (h % sh !== 0 || w % sw !== 0) {
    throw new Error(`windowPartition: map ${h}x${w} is not divisible into ${sh}x${sw} windows`);
  }
  return tf.tidy(() => {
    const split = tf.reshape(x, [b, sh, h / sh, sw, w / sw, c]);
    return tf.reshape(tf.transpose(split, [0, 1, 3, 2, 4, 5]), [
      b * sh * sw,
      h / sh,
      w / sw,
      c,
    ]) as tf.Tensor4D;
  });
}

/**
 * Inverse of `windowPartition` (UniMatch's `merge_splits`).
 * @param windows `[B·sh·sw, h, w, C]`
 * @param numSplits `s` or `[sh, sw]`
 * @returns `[B, sh·h, sw·w, C]`
 * @example
 * windowReverse(tf.zeros([8, 4, 6, 16]), 2).shape; // [2, 8, 12, 16]
 */
export function windowReverse(windows: tf.Tensor, numSplits: Pair): tf.Tensor4D {
  const [sh, sw] = pair('windowReverse', 'numSplits', numSplits, 1);
  if (windows.rank !== 4) throw new Error(`windowReverse: windows must be [N,h,w,C], got [${windows.shape}]`);
  const [n, h, w, c] = windows.shape;
  if (n % (sh * sw) !== 0) {
    throw new Error(`windowReverse: ${n} windows is not a multiple of ${sh}x${sw} splits`);
  }
  const b = n / (sh * sw);
  return tf.tidy(() => {
    const split = tf.reshape(windows, [b, sh, sw, h, w, c]);
    return tf.reshape(tf.transpose(split, [0, 1, 3, 2, 4, 5]), [b, sh * h, sw * w, c]) as tf.Tensor4D;
  });
}

/**
 * `torch.roll`: shifts elements along `axes` cyclically, `out[(i + shift) mod n] = x[i]`. Built from
 * slice + concat, so it is differentiable everywhere.
 * @param x any shape
 * @param shifts one shift per axis (negative rolls backwards)
 * @param axes axes to roll (negative counts from the end)
 * @returns same shape as `x`
 * @example
 * roll(tf.tensor1d([1, 2, 3, 4]), 1, 0); // [4, 1, 2, 3]
 * roll(x, [-2, -3], [1, 2]); // Swin's cyclic shift of a [B,H,W,C] map
 */
export function roll(
  x: tf.Tensor,
  shifts: number | readonly number[],
  axes: number | readonly number[],
): tf.Tensor {
  const s = typeof shifts === 'number' ? [shifts] : [...shifts];
  const a = typeof axes === 'number' ? [axes] : [...axes];
  if (s.length !== a.length) throw new Error(`roll: ${s.length} shifts for ${a.length} axes`);
  s.forEach((shift, i) => {
    const axis = a[i] < 0 ? x.rank + a[i] : a[i];
    if (!Number.isInteger(axis) || axis < 0 || axis >= x.rank) {
      throw new Error(`roll: axis ${a[i]} out of range for rank ${x.rank}`);
    }
    if (!Number.isInteger(shift)) throw new Error(`roll: shift must be an integer, got ${shift}`);
  });
  return rearrangement(
    (t) => rollBySlices(t, s, a),
    (dy) =>
      rollBySlices(
        dy,
        s.map((v) => -v),
        a,
      ),
  )(x);
}

/** `roll` built from slice + concat, arguments checked (autodiff of it would keep the sliced inputs). */
function rollBySlices(x: tf.Tensor, s: readonly number[], a: readonly number[]): tf.Tensor {
  return tf.tidy(() => {
    let y = x;
    s.forEach((shift, i) => {
      const axis = a[i] < 0 ? x.rank + a[i] : a[i];
      const n = x.shape[axis];
      const k = ((shift % n) + n) % n;
      if (k === 0) return;
      const begin = new Array(x.rank).fill(0);
      const head = [...y.shape];
      head[axis] = n - k;
      const tail = [...y.shape];
      tail[axis] = k;
      const tailBegin = [...begin];
      tailBegin[axis] = n - k;
      y = tf.concat([tf.slice(y, tailBegin, tail), tf.slice(y, begin, head)], axis);
    });
    return y === x ? tf.clone(x) : y;
  });
}

/** Swin region label of index `i` along an axis of length `n` (slices (0:−win), (−win:−shift), (−shift:)). */
function regionLabel(i: number, n: number, win: number, shift: number): number {
  if (shift === 0) return 2; // PyTorch's slice(-0, None) covers the whole axis
  return i < n - win ? 0 : i < n - shift ? 1 : 2;
}

/**
 * Attention mask of shifted-window attention (Swin / UniMatch `generate_shift_window_attn_mask`):
 * the (already rolled) map is labelled in 3×3 regions by the slices (0:−win), (−win:−shift),
 * (−shift:) along each axis; token pairs of a window with different labels get −100, others 0.
 * @param height map height `H` (multiple of `windowSize[0]`)
 * @param width map width `W` (multiple of `windowSize[1]`)
 * @param windowSize `win` or `[winH, winW]`
 * @param shift `s` or `[sh, sw]`, `0 <= s < win` (UniMatch uses `win/2`)
 * @returns `[numWindows, Lw, Lw]` float32, `numWindows = (H/winH)·(W/winW)`, `Lw = winH·winW`, windows
 *   in `windowPartition` order; tile it over the batch
 * @example
 * shiftedWindowMask(8, 8, 4, 2).shape; // [4, 16, 16]
 */
export function shiftedWindowMask(height: number, width: number, windowSize: Pair, shift: Pair): tf.Tensor3D {
  const [wh, ww] = pair('shiftedWindowMask', 'windowSize', windowSize, 1);
  const [sh, sw] = pair('shiftedWindowMask', 'shift', shift, 0);
  if (!Number.isInteger(height) || !Number.isInteger(width) || height % wh !== 0 || width % ww !== 0) {
    throw new Error(`shiftedWindowMask: map ${height}x${width} must be a multiple of the window ${wh}x${ww}`);
  }
  if (sh >= wh || sw >= ww)
    throw new Error(`shiftedWindowMask: shift ${sh}x${sw} must be smaller than the window`);
  const ky = height / wh;
  const kx = width / ww;
  const lw = wh * ww;
  const mask = new Float32Array(ky * kx * lw * lw);
  const labels = new Int32Array(lw);
  for (let wy = 0; wy < ky; wy++) {
    for (let wx = 0; wx < kx; wx++) {
      for (let t = 0; t < lw; t++) {
        const r = wy * wh + Math.floor(t / ww);
        const c = wx * ww + (t % ww);
        labels[t] = regionLabel(r, height, wh, sh) * 3 + regionLabel(c, width, ww, sw);
      }
      const base = (wy * kx + wx) * lw * lw;
      for (let i = 0; i < lw; i++) {
        for (let j = 0; j < lw; j++) mask[base + i * lw + j] = labels[i] === labels[j] ? 0 : -100;
      }
    }
  }
  return tf.tensor3d(mask, [ky * kx, lw, lw]);
}
