/**
 * cpu kernels of `gridSample` (registered on import): `CvmGridSample` and `CvmGridSampleGrad`.
 * Plain typed-array loops over output locations; nothing is allocated per element.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  GRID_SAMPLE,
  GRID_SAMPLE_GRAD,
  type GridSampleAttrs,
  type GridSamplePaddingMode,
  MAX_SOURCE_COORDINATE,
  NOWHERE,
} from '../kernel-names.js';

/** The part of tfjs-backend-cpu's `MathBackendCPU` these kernels use (no runtime import of it). */
interface CpuBackend {
  data: { get(dataId: tf.DataId): { values?: unknown } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.TypedArray): tf.TensorInfo;
}

function valuesOf(backend: CpuBackend, t: tf.TensorInfo): Float32Array {
  return backend.data.get(t.dataId).values as Float32Array;
}

/**
 * Source coordinate of normalised `g` along an axis of `size` pixels, as PyTorch computes it
 * (unnormalise, then border clip or reflect + clip, then out-of-range / NaN → -100). The derivative
 * w.r.t. `g` goes to `slope[k]`; reused scratch, so nothing is allocated per call.
 */
function sourceCoordinate(
  g: number,
  size: number,
  padding: GridSamplePaddingMode,
  alignCorners: boolean,
  slope: Float64Array,
  k: number,
): number {
  const scale = alignCorners ? (size - 1) / 2 : size / 2;
  const u = alignCorners ? (g + 1) * scale : (g + 1) * scale - 0.5;
  let s = scale;
  let r = u; // before clipping
  const reflect = padding === 'reflection';
  if (reflect) {
    const twiceLow = alignCorners ? 0 : -1;
    const twiceHigh = alignCorners ? 2 * (size - 1) : 2 * size - 1;
    if (twiceLow === twiceHigh) {
      r = 0;
      s = 0;
    } else {
      const min = twiceLow / 2;
      const span = (twiceHigh - twiceLow) / 2;
      const d = u - min;
      const a = Math.abs(d);
      const extra = a % span;
      const even = Math.floor(a / span) % 2 === 0;
      r = even ? extra + min : span - extra + min;
      s *= d < 0 === even ? -1 : 1;
    }
  }
  let c = r;
  if (padding !== 'zeros' && !(r > 0 && r < size - 1)) {
    // Clip into [0, size-1]; the derivative is zero at and beyond the border, as PyTorch's.
    c = r <= 0 ? 0 : size - 1;
    s = 0;
  }
  // NaN and huge coordinates go nowhere (border has clamped huge ones to the edge already).
  if (
    Number.isNaN(r) ||
    !(Math.abs(c) < MAX_SOURCE_COORDINATE) ||
    (reflect && !(Math.abs(u) < MAX_SOURCE_COORDINATE))
  ) {
    c = NOWHERE;
    s = 0;
  }
  slope[k] = s;
  return c;
}

/** C's `nearbyint` under the default rounding mode: round half to even. */
function roundHalfEven(v: number): number {
  const r = Math.round(v); // rounds half up
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

interface Dims {
  batch: number;
  h: number;
  w: number;
  channels: number;
  points: number; // Ho·Wo per batch item
}

function dims(x: tf.TensorInfo, grid: tf.TensorInfo): Dims {
  const [batch, h, w, channels] = x.shape;
  return { batch, h, w, channels, points: grid.shape[1] * grid.shape[2] };
}

// Per-call scratch: [0] slope x, [1] slope y.
const slope = new Float64Array(2);

function gridSampleCpu({
  inputs,
  backend,
  attrs,
}: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}): tf.TensorInfo {
  const cpu = backend as CpuBackend;
  const { x, grid } = inputs as { x: tf.TensorInfo; grid: tf.TensorInfo };
  const { mode, paddingMode, alignCorners } = attrs as unknown as GridSampleAttrs;
  const { batch, h, w, channels, points } = dims(x, grid);
  const xv = valuesOf(cpu, x);
  const gv = valuesOf(cpu, grid);
  const out = new Float32Array(batch * points * channels);
  const nearest = mode === 'nearest';
  for (let b = 0; b < batch; b++) {
    const xBase = b * h * w;
    for (let p = 0; p < points; p++) {
      const q = b * points + p;
      const ix = sourceCoordinate(gv[2 * q], w, paddingMode, alignCorners, slope, 0);
      const iy = sourceCoordinate(gv[2 * q + 1], h, paddingMode, alignCorners, slope, 1);
      const o = q * channels;
      if (nearest) {
        const xn = roundHalfEven(ix);
        const yn = roundHalfEven(iy);
        if (xn >= 0 && xn < w && yn >= 0 && yn < h) {
          const src = (xBase + yn * w + xn) * channels;
          for (let c = 0; c < channels; c++) out[o + c] = xv[src + c];
        }
        continue;
      }
      const x0 = Math.floor(ix);
      const y0 = Math.floor(iy);
      const east = ix - x0;
      const west = x0 + 1 - ix;
      const south = iy - y0;
      const north = y0 + 1 - iy;
      const inX0 = x0 >= 0 && x0 < w;
      const inX1 = x0 + 1 >= 0 && x0 + 1 < w;
      const inY0 = y0 >= 0 && y0 < h;
      const inY1 = y0 + 1 >= 0 && y0 + 1 < h;
      // Weights of out-of-bounds taps are zeroed so that the loop below reads only valid rows.
      const wNW = inX0 && inY0 ? west * north : 0;
      const wNE = inX1 && inY0 ? east * north : 0;
      const wSW = inX0 && inY1 ? west * south : 0;
      const wSE = inX1 && inY1 ? east * south : 0;
      const cx0 = inX0 ? x0 : 0;
      const cx1 = inX1 ? x0 + 1 : 0;
      const cy0 = inY0 ? y0 : 0;
      const cy1 = inY1 ? y0 + 1 : 0;
      const nw = (xBase + cy0 * w + cx0) * channels;
      const ne = (xBase + cy0 * w + cx1) * channels;
      const sw = (xBase + cy1 * w + cx0) * channels;
      const se = (xBase + cy1 * w + cx1) * channels;
      for (let c = 0; c < channels; c++) {
        out[o + c] = wNW * xv[nw + c] + wNE * xv[ne + c] + wSW * xv[sw + c] + wSE * xv[se + c];
      }
    }
  }
  return cpu.makeTensorInfo([batch, grid.shape[1], grid.shape[2], channels], 'float32', out);
}

function gridSampleGradCpu({
  inputs,
  backend,
  attrs,
}: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}): tf.TensorInfo[] {
  const cpu = backend as CpuBackend;
  const { dy, x, grid } = inputs as { dy: tf.TensorInfo; x: tf.TensorInfo; grid: tf.TensorInfo };
  const { mode, paddingMode, alignCorners } = attrs as unknown as GridSampleAttrs;
  const { batch, h, w, channels, points } = dims(x, grid);
  const dyv = valuesOf(cpu, dy);
  const xv = valuesOf(cpu, x);
  const gv = valuesOf(cpu, grid);
  const dx = new Float32Array(xv.length);
  const dgrid = new Float32Array(gv.length); // stays zero for nearest
  const nearest = mode === 'nearest';
  for (let b = 0; b < batch; b++) {
    const xBase = b * h * w;
    for (let p = 0; p < points; p++) {
      const q = b * points + p;
      const ix = sourceCoordinate(gv[2 * q], w, paddingMode, alignCorners, slope, 0);
      const iy = sourceCoordinate(gv[2 * q + 1], h, paddingMode, alignCorners, slope, 1);
      const o = q * channels;
      if (nearest) {
        const xn = roundHalfEven(ix);
        const yn = roundHalfEven(iy);
        if (xn >= 0 && xn < w && yn >= 0 && yn < h) {
          const dst = (xBase + yn * w + xn) * channels;
          for (let c = 0; c < channels; c++) dx[dst + c] += dyv[o + c];
        }
        continue;
      }
      const x0 = Math.floor(ix);
      const y0 = Math.floor(iy);
      const east = ix - x0;
      const west = x0 + 1 - ix;
      const south = iy - y0;
      const north = y0 + 1 - iy;
      const inX0 = x0 >= 0 && x0 < w;
      const inX1 = x0 + 1 >= 0 && x0 + 1 < w;
      const inY0 = y0 >= 0 && y0 < h;
      const inY1 = y0 + 1 >= 0 && y0 + 1 < h;
      // Masks as 0/1 factors keep the channel loop branch-free; invalid taps point at row 0.
      const mNW = inX0 && inY0 ? 1 : 0;
      const mNE = inX1 && inY0 ? 1 : 0;
      const mSW = inX0 && inY1 ? 1 : 0;
      const mSE = inX1 && inY1 ? 1 : 0;
      const nw = mNW ? (xBase + y0 * w + x0) * channels : 0;
      const ne = mNE ? (xBase + y0 * w + x0 + 1) * channels : 0;
      const sw = mSW ? (xBase + (y0 + 1) * w + x0) * channels : 0;
      const se = mSE ? (xBase + (y0 + 1) * w + x0 + 1) * channels : 0;
      const wNW = mNW * west * north;
      const wNE = mNE * east * north;
      const wSW = mSW * west * south;
      const wSE = mSE * east * south;
      let gix = 0;
      let giy = 0;
      for (let c = 0; c < channels; c++) {
        const g = dyv[o + c];
        if (g === 0) continue;
        const vNW = mNW * xv[nw + c];
        const vNE = mNE * xv[ne + c];
        const vSW = mSW * xv[sw + c];
        const vSE = mSE * xv[se + c];
        dx[nw + c] += wNW * g;
        dx[ne + c] += wNE * g;
        dx[sw + c] += wSW * g;
        dx[se + c] += wSE * g;
        // ∂out/∂ix and ∂out/∂iy of the bilinear blend, as in PyTorch's backward.
        gix += g * (north * (vNE - vNW) + south * (vSE - vSW));
        giy += g * (west * (vSW - vNW) + east * (vSE - vNE));
      }
      dgrid[2 * q] = gix * slope[0];
      dgrid[2 * q + 1] = giy * slope[1];
    }
  }
  return [cpu.makeTensorInfo(x.shape, 'float32', dx), cpu.makeTensorInfo(grid.shape, 'float32', dgrid)];
}

tf.registerKernel({
  kernelName: GRID_SAMPLE,
  backendName: 'cpu',
  kernelFunc: gridSampleCpu as tf.KernelFunc,
});
tf.registerKernel({
  kernelName: GRID_SAMPLE_GRAD,
  backendName: 'cpu',
  kernelFunc: gridSampleGradCpu as tf.KernelFunc,
});
