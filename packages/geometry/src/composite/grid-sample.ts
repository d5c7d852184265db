/**
 * `gridSample` built from stock tfjs ops, for backends without a `CvmGridSample` kernel (wasm, webgl,
 * tfjs-node). Differentiable through tfjs's autodiff with exactly PyTorch's gradients:
 * - the per-axis coordinate transform (unnormalise, clip / reflect, out-of-range → -100) is one
 *   `customGrad` whose value is computed off the tape and whose derivative is PyTorch's
 *   `grad_in_mult` (scale · reflection sign · clip mask, 0 where the coordinate was invalid);
 * - tap indices and in-bounds masks are built off the tape (comparisons have no gradient and
 *   int32 indices must not receive one);
 * - the rows of the flattened input are gathered by a `customGrad` whose gradient is a
 *   `scatterND` (duplicate indices sum), and the bilinear weights stay on the tape, so the grid gradient is
 *   Σ_taps value · mask · ∂weight/∂coordinate, as PyTorch's backward computes it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { noGrad } from '../no-grad.js';
import {
  type GridSampleMode,
  type GridSamplePaddingMode,
  MAX_SOURCE_COORDINATE,
  NOWHERE,
} from '../kernel-names.js';

type CustomGradResult = {
  value: tf.Tensor;
  gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[];
};

/** `tf.customGrad` for a one-input function, with that input typed (tfjs types inputs as a union). */
function customGrad1(
  f: (x: tf.Tensor, save: tf.GradSaveFunc) => CustomGradResult,
): (x: tf.Tensor) => tf.Tensor {
  return tf.customGrad((...args) => f(args[0] as tf.Tensor, args[1] as tf.GradSaveFunc));
}

function filled(like: tf.Tensor, value: number): tf.Tensor {
  return tf.fill(like.shape, value);
}

/**
 * Source pixel coordinate of normalised grid values `g` along an axis of `size` pixels, and its
 * derivative w.r.t. `g` (forward only: call off the tape).
 */
function coordinateAndSlope(
  g: tf.Tensor,
  size: number,
  padding: GridSamplePaddingMode,
  alignCorners: boolean,
): [tf.Tensor, tf.Tensor] {
  const scale = alignCorners ? (size - 1) / 2 : size / 2;
  // Same evaluation order as PyTorch's vectorised cpu kernel: (g + 1)·scale [- 0.5].
  let u = tf.mul(tf.add(g, 1), scale);
  if (!alignCorners) u = tf.sub(u, 0.5);
  let r = u; // before clipping
  let slope = filled(u, scale);
  if (padding === 'reflection') {
    const twiceLow = alignCorners ? 0 : -1;
    const twiceHigh = alignCorners ? 2 * (size - 1) : 2 * size - 1;
    if (twiceLow === twiceHigh) {
      // A single pixel with alignCorners: everything reflects onto it, with zero derivative.
      r = filled(u, 0);
      slope = filled(u, 0);
    } else {
      const min = twiceLow / 2;
      const span = (twiceHigh - twiceLow) / 2;
      const d = tf.sub(u, min);
      const a = tf.abs(d);
      const flips = tf.floor(tf.div(a, span));
      const extra = tf.mod(a, span); // a ≥ 0, so floor-mod equals C's fmod
      const even = tf.equal(tf.mod(flips, 2), 0);
      r = tf.where(even, tf.add(extra, min), tf.add(tf.sub(span, extra), min));
      const sign = tf.where(tf.less(d, 0), filled(u, -1), filled(u, 1));
      slope = tf.mul(slope, tf.where(even, sign, tf.neg(sign)));
    }
  }
  let c = r;
  if (padding !== 'zeros') {
    // Clip into [0, size-1]; PyTorch's derivative is zero at and beyond the border.
    const inside = tf.cast(tf.logicalAnd(tf.greater(r, 0), tf.less(r, size - 1)), 'float32');
    c = tf.clipByValue(r, 0, size - 1);
    slope = tf.mul(slope, inside);
  }
  // NaN and huge coordinates go nowhere (border has clamped huge ones to the edge already). NaN is
  // tested before the clip, whose handling of NaN is backend-dependent; comparisons with NaN are false.
  let ok = tf.logicalAnd(
    tf.lessEqual(tf.abs(r), Number.POSITIVE_INFINITY),
    tf.less(tf.abs(c), MAX_SOURCE_COORDINATE),
  );
  if (padding === 'reflection') ok = tf.logicalAnd(ok, tf.less(tf.abs(u), MAX_SOURCE_COORDINATE));
  return [tf.where(ok, c, filled(c, NOWHERE)), tf.where(ok, slope, filled(slope, 0))];
}

/**
 * Differentiable per-axis coordinate transform: value = PyTorch's source coordinate, gradient =
 * upstream · PyTorch's derivative (or zero, for nearest sampling).
 */
function sourceCoordinate(
  g: tf.Tensor,
  size: number,
  padding: GridSamplePaddingMode,
  alignCorners: boolean,
  zeroGradient: boolean,
): tf.Tensor {
  // Value and slope are made before the customGrad: intermediates it saves must pre-exist, or
  // IS_TEST's kernel leak check flags them.
  const [value, slope] = tf.unstack(
    noGrad(() => tf.stack(coordinateAndSlope(g, size, padding, alignCorners))),
  );
  const transform = customGrad1((_g, save) => {
    save([slope]);
    return {
      value: tf.clone(value),
      gradFunc: (dy, saved) => (zeroGradient ? tf.zerosLike(dy) : tf.mul(dy, saved[0])),
    };
  });
  return transform(g);
}

/**
 * `table[idx]` row-wise, with the gradient `scatterND(idx, dy, [rows, C])` (duplicates sum; none for
 * idx). Not tfjs's own gather gradient, `unsortedSegmentSum`: the cpu backend runs that in
 * O(rows · N · C) (one masked sum per segment) and wasm has no kernel for it; ScatterNd is linear on
 * cpu, wasm and tfjs-node.
 */
function gatherRows(table: tf.Tensor2D, idx: tf.Tensor1D): tf.Tensor2D {
  const rows = table.shape[0];
  const gather = customGrad1((t, save) => {
    save([idx]);
    return {
      value: tf.gather(t, idx),
      gradFunc: (dy, saved) =>
        tf.scatterND(tf.reshape(saved[0], [-1, 1]), dy, [rows, t.shape[1] as number]) as tf.Tensor2D,
    };
  });
  return gather(table) as tf.Tensor2D;
}

/**
 * Flat row indices into `[B*H*W, C]` and in-bounds masks of integer-valued taps `(tx, ty)` (`[N,1]`
 * each, N = B·Ho·Wo), off the tape.
 */
function tapIndexAndMask(
  tx: tf.Tensor,
  ty: tf.Tensor,
  batchOffset: tf.Tensor,
  h: number,
  w: number,
): { index: tf.Tensor; mask: tf.Tensor } {
  const inX = tf.logicalAnd(tf.greaterEqual(tx, 0), tf.lessEqual(tx, w - 1));
  const inY = tf.logicalAnd(tf.greaterEqual(ty, 0), tf.lessEqual(ty, h - 1));
  const mask = tf.cast(tf.logicalAnd(inX, inY), 'float32');
  // Clamp before the int cast so that far-away (masked) taps still index a valid row.
  const cx = tf.cast(tf.clipByValue(tx, 0, w - 1), 'int32');
  const cy = tf.cast(tf.clipByValue(ty, 0, h - 1), 'int32');
  const index = tf.add(batchOffset, tf.add(tf.mul(cy, tf.scalar(w, 'int32')), cx));
  return { index, mask };
}

/**
 * Composite `gridSample` (see `ops/grid-sample.ts` for the semantics). Arguments are assumed checked.
 * @param x `[B,H,W,C]` float32
 * @param grid `[B,Ho,Wo,2]` float32, normalised (x, y)
 * @returns `[B,Ho,Wo,C]`
 */
export function gridSampleComposite(
  x: tf.Tensor4D,
  grid: tf.Tensor4D,
  mode: GridSampleMode,
  paddingMode: GridSamplePaddingMode,
  alignCorners: boolean,
): tf.Tensor4D {
  const [batch, h, w, channels] = x.shape;
  const [, ho, wo] = grid.shape;
  const n = batch * ho * wo;
  if (n === 0 || channels === 0) {
    // Nothing to sample (stock ops choke on empty unstacks); still connected to both inputs.
    const empty = tf.customGrad((..._inputs) => ({
      value: tf.zeros([batch, ho, wo, channels]),
      gradFunc: () => [tf.zeros(x.shape), tf.zeros(grid.shape)],
    }));
    return empty(x, grid) as tf.Tensor4D;
  }
  return tf.tidy(() => {
    const nearest = mode === 'nearest';
    const [gx, gy] = tf.split(tf.reshape(grid, [n, 2]), 2, 1);
    const ix = sourceCoordinate(gx, w, paddingMode, alignCorners, nearest);
    const iy = sourceCoordinate(gy, h, paddingMode, alignCorners, nearest);
    const table = tf.reshape(x, [batch * h * w, channels]) as tf.Tensor2D;
    const { index, weights, taps } = sampleTaps(ix, iy, batch, h, w, ho * wo, nearest);
    const values = tf.reshape(tf.mul(gatherRows(table, index), weights), [taps, n, channels]);
    return tf.reshape(tf.sum(values, 0), [batch, ho, wo, channels]) as tf.Tensor4D;
  });
}

/**
 * The taps of every sample at source coordinates `ix`, `iy` (`[N,1]`, N = B·Ho·Wo): flat row indices into
 * `[B·H·W, C]` (`[T·N]`, tap-major) built off the tape, and weights (`[T·N,1]`, 0 for taps outside) that
 * stay on the tape, so the grid gradient is Σ_taps value · mask · ∂weight/∂coordinate as in PyTorch.
 * T = 1 for nearest, 4 for bilinear.
 */
function sampleTaps(
  ix: tf.Tensor,
  iy: tf.Tensor,
  batch: number,
  h: number,
  w: number,
  perItem: number,
  nearest: boolean,
): { index: tf.Tensor1D; weights: tf.Tensor; taps: number } {
  const batchOffset = noGrad(() =>
    tf.reshape(
      tf.tile(tf.reshape(tf.mul(tf.range(0, batch, 1, 'int32'), tf.scalar(h * w, 'int32')), [batch, 1]), [
        1,
        perItem,
      ]),
      [batch * perItem, 1],
    ),
  );
  if (nearest) {
    const taps = noGrad(() => tf.round(tf.concat([ix, iy], 1))); // tf.round is half-to-even, as nearbyint
    const { index, mask } = tapsOffTape(taps, [[0, 0]], batchOffset, h, w);
    // ix·0 keeps the grid on the tape (with a zero gradient); ix is always finite here.
    return { index, weights: tf.add(mask, tf.mul(tf.add(ix, iy), 0)), taps: 1 };
  }
  const corner = noGrad(() => tf.floor(tf.concat([ix, iy], 1))); // [N,2] = (x0, y0)
  const [x0, y0] = tf.split(corner, 2, 1);
  // PyTorch's weights: east = ix - x0, west = (x0+1) - ix; same for south/north.
  const east = tf.sub(ix, x0);
  const west = tf.sub(tf.add(x0, 1), ix);
  const south = tf.sub(iy, y0);
  const north = tf.sub(tf.add(y0, 1), iy);
  const { index, mask } = tapsOffTape(
    corner,
    [
      [0, 0],
      [1, 0],
      [0, 1],
      [1, 1],
    ],
    batchOffset,
    h,
    w,
  );
  const weights = tf.mul(
    tf.concat([tf.mul(west, north), tf.mul(east, north), tf.mul(west, south), tf.mul(east, south)], 0),
    mask,
  );
  return { index, weights, taps: 4 };
}

/**
 * The gradient of {@link gridSampleComposite} w.r.t. its input for an upstream `dy`, computed directly
 * (the transposed sampling: each output row scattered back to its taps with their weights, duplicates
 * summed) instead of by autodiff, so that it can run inside another op's gradient function.
 * @param dy `[B,Ho,Wo,C]` float32
 * @param grid `[B,Ho,Wo,2]` float32, normalised (x, y)
 * @param inputShape `[B,H,W,C]` of the sampled input
 * @returns `[B,H,W,C]`
 */
export function gridSampleInputGradComposite(
  dy: tf.Tensor4D,
  grid: tf.Tensor4D,
  inputShape: [number, number, number, number],
  mode: GridSampleMode,
  paddingMode: GridSamplePaddingMode,
  alignCorners: boolean,
): tf.Tensor4D {
  const [batch, h, w, channels] = inputShape;
  const [, ho, wo] = grid.shape;
  const n = batch * ho * wo;
  if (n === 0 || channels === 0) return tf.zeros(inputShape);
  return noGrad(() =>
    tf.tidy(() => {
      const [gx, gy] = tf.split(tf.reshape(grid, [n, 2]), 2, 1);
      const [ix] = coordinateAndSlope(gx, w, paddingMode, alignCorners);
      const [iy] = coordinateAndSlope(gy, h, paddingMode, alignCorners);
      const { index, weights, taps } = sampleTaps(ix, iy, batch, h, w, ho * wo, mode === 'nearest');
      const rows = tf.reshape(dy, [n, channels]);
      const values = tf.mul(taps === 1 ? rows : tf.tile(rows, [taps, 1]), weights);
      return tf.reshape(
        tf.scatterND(tf.reshape(index, [-1, 1]), values, [batch * h * w, channels]),
        inputShape,
      );
    }),
  ) as tf.Tensor4D;
}

/**
 * For integer base coordinates `base` (`[N,2]` = x, y) and tap offsets, the concatenated flat indices
 * (`[T·N]` int32) and masks (`[T·N, 1]`), tap-major, off the tape.
 */
function tapsOffTape(
  base: tf.Tensor,
  offsets: [number, number][],
  batchOffset: tf.Tensor,
  h: number,
  w: number,
): { index: tf.Tensor1D; mask: tf.Tensor } {
  const build = (part: 'index' | 'mask') =>
    noGrad(() => {
      const [bx, by] = tf.split(base, 2, 1);
      const parts = offsets.map(
        ([ox, oy]) => tapIndexAndMask(tf.add(bx, ox), tf.add(by, oy), batchOffset, h, w)[part],
      );
      return parts.length === 1 ? parts[0] : tf.concat(parts, 0);
    });
  return { index: tf.reshape(build('index'), [-1]) as tf.Tensor1D, mask: build('mask') };
}
