/**
 * webgpu kernels of `gridSample` (registered on import): `CvmGridSample` (one invocation per output
 * element) and `CvmGridSampleGrad` (dx: a scatter with float atomic adds into a zero-filled buffer,
 * one invocation per upstream-gradient element; dgrid: a gather, one invocation per grid point).
 * Only the public program interface of tfjs-backend-webgpu is used, with no runtime import of it.
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
import {
  atomicAddFloatFunction,
  computeDispatch,
  type DispatchLayout,
  FLAT_WORKGROUP_SIZE,
  flatDispatchFor,
  flatDispatchLayout,
  type WebGPUBackendLike,
  type WebGPUProgramLike,
  zeros,
} from '../webgpu/program-utils.js';

const f32 = (v: number) => (Number.isInteger(v) ? `${v}.0` : `${v}`);

/**
 * WGSL `fn sourceCoordinate(g : f32, size : i32) -> vec2<f32>`: (source pixel coordinate, its derivative
 * w.r.t. g), as PyTorch computes them (see the cpu kernel for the same steps in JS). NaN / ±inf are
 * recognised from the bits, since WGSL lets compilers assume floats are finite.
 */
function sourceCoordinateWgsl(padding: GridSamplePaddingMode, alignCorners: boolean): string {
  const nowhere = `vec2<f32>(${f32(NOWHERE)}, 0.0)`;
  const max = f32(MAX_SOURCE_COORDINATE);
  const reflection = `
    if (!(abs(u) < ${max})) {
      return ${nowhere};
    }
    let twiceLow = ${alignCorners ? '0' : '-1'};
    let twiceHigh = ${alignCorners ? '2 * (size - 1)' : '2 * size - 1'};
    if (twiceLow == twiceHigh) {
      r = 0.0;
      s = 0.0;
    } else {
      let lo = f32(twiceLow) * 0.5;
      let span = f32(twiceHigh - twiceLow) * 0.5;
      let d = u - lo;
      let a = abs(d);
      let extra = a - span * trunc(a / span);
      let even = (i32(floor(a / span)) % 2) == 0;
      r = select(span - extra + lo, extra + lo, even);
      s = select(s, -s, (d < 0.0) == even);
    }`;
  const clip = `
    if (!(r > 0.0 && r < sizeF - 1.0)) {
      c = select(sizeF - 1.0, 0.0, r <= 0.0);
      s = 0.0;
    }`;
  const infinite = padding === 'border' ? `vec2<f32>(select(0.0, sizeF - 1.0, g > 0.0), 0.0)` : nowhere;
  return `
  fn sourceCoordinate(g : f32, size : i32) -> vec2<f32> {
    let bits = bitcast<u32>(g) & 0x7fffffffu;
    let sizeF = f32(size);
    if (bits > 0x7f800000u) {
      return ${nowhere};
    }
    if (bits == 0x7f800000u) {
      return ${infinite};
    }
    let scale = ${alignCorners ? '(sizeF - 1.0) * 0.5' : 'sizeF * 0.5'};
    let u = (g + 1.0) * scale${alignCorners ? '' : ' - 0.5'};
    var s = scale;
    var r = u;
    ${padding === 'reflection' ? reflection : ''}
    var c = r;
    ${padding === 'zeros' ? '' : clip}
    if (!(abs(c) < ${max})) {
      return ${nowhere};
    }
    return vec2<f32>(c, s);
  }
`;
}

/**
 * WGSL that, from `b`, `px`, `py` (outputs of sourceCoordinate) and `h`, `w`, defines the bilinear
 * taps: integer corners, weights, 0/1 in-bounds masks and clamped (always readable) coordinates.
 */
const bilinearTapsWgsl = `
      let x0f = floor(px.x);
      let y0f = floor(py.x);
      let x0 = i32(x0f);
      let y0 = i32(y0f);
      let x1 = x0 + 1;
      let y1 = y0 + 1;
      let east = px.x - x0f;
      let west = x0f + 1.0 - px.x;
      let south = py.x - y0f;
      let north = y0f + 1.0 - py.x;
      let inX0 = x0 >= 0 && x0 < w;
      let inX1 = x1 >= 0 && x1 < w;
      let inY0 = y0 >= 0 && y0 < h;
      let inY1 = y1 >= 0 && y1 < h;
      let mNW = select(0.0, 1.0, inX0 && inY0);
      let mNE = select(0.0, 1.0, inX1 && inY0);
      let mSW = select(0.0, 1.0, inX0 && inY1);
      let mSE = select(0.0, 1.0, inX1 && inY1);
      let cx0 = clamp(x0, 0, w - 1);
      let cx1 = clamp(x1, 0, w - 1);
      let cy0 = clamp(y0, 0, h - 1);
      let cy1 = clamp(y1, 0, h - 1);
`;

const nearestTapWgsl = `
      let xn = i32(round(px.x)); // WGSL round is half to even, as C's nearbyint
      let yn = i32(round(py.x));
      let inside = xn >= 0 && xn < w && yn >= 0 && yn < h;
`;

function shaderKey(name: string, attrs: GridSampleAttrs): string {
  return `${name}_${attrs.mode}_${attrs.paddingMode}_${attrs.alignCorners}`;
}

class GridSampleProgram implements WebGPUProgramLike {
  variableNames = ['x', 'grid'];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: DispatchLayout;
  dispatch: [number, number, number];
  workgroupSize = FLAT_WORKGROUP_SIZE;
  size = true;

  constructor(
    outputShape: number[],
    private readonly attrs: GridSampleAttrs,
  ) {
    this.outputShape = outputShape;
    this.shaderKey = shaderKey('cvmGridSample', attrs);
    this.dispatchLayout = flatDispatchLayout(outputShape);
    this.dispatch = computeDispatch(this.dispatchLayout, outputShape, this.workgroupSize);
  }

  getUserCode(): string {
    const sample =
      this.attrs.mode === 'nearest'
        ? `${nearestTapWgsl}
      if (inside) {
        v = getX(b, yn, xn, ch);
      }`
        : `${bilinearTapsWgsl}
      v = mNW * west * north * getX(b, cy0, cx0, ch) + mNE * east * north * getX(b, cy0, cx1, ch)
        + mSW * west * south * getX(b, cy1, cx0, ch) + mSE * east * south * getX(b, cy1, cx1, ch);`;
    return `
  ${sourceCoordinateWgsl(this.attrs.paddingMode, this.attrs.alignCorners)}
  fn main(index : i32) {
    if (index < uniforms.size) {
      let coords = getCoordsFromIndex(index);
      let b = coords.x;
      let ch = coords.w;
      let h = uniforms.xShape.y;
      let w = uniforms.xShape.z;
      let px = sourceCoordinate(getGrid(b, coords.y, coords.z, 0), w);
      let py = sourceCoordinate(getGrid(b, coords.y, coords.z, 1), h);
      var v = 0.0;
      ${sample}
      setOutputAtIndex(index, v);
    }
  }
`;
  }
}

/** dx: each upstream-gradient element adds its weighted value to its (up to 4) source pixels. */
class GridSampleInputGradProgram implements WebGPUProgramLike {
  variableNames = ['dy', 'grid'];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: DispatchLayout;
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  uniforms = 'numWork : i32,';
  atomic = true;

  constructor(
    inputShape: number[],
    work: number,
    private readonly attrs: GridSampleAttrs,
  ) {
    this.outputShape = inputShape;
    this.shaderKey = shaderKey('cvmGridSampleInputGrad', attrs);
    ({
      dispatchLayout: this.dispatchLayout,
      dispatch: this.dispatch,
      workgroupSize: this.workgroupSize,
    } = flatDispatchFor(work));
  }

  getUserCode(): string {
    const scatter =
      this.attrs.mode === 'nearest'
        ? `${nearestTapWgsl}
      if (inside) {
        atomicAddFloat(((b * h + yn) * w + xn) * channels + ch, g);
      }`
        : `${bilinearTapsWgsl}
      if (inX0 && inY0) {
        atomicAddFloat(((b * h + y0) * w + x0) * channels + ch, west * north * g);
      }
      if (inX1 && inY0) {
        atomicAddFloat(((b * h + y0) * w + x1) * channels + ch, east * north * g);
      }
      if (inX0 && inY1) {
        atomicAddFloat(((b * h + y1) * w + x0) * channels + ch, west * south * g);
      }
      if (inX1 && inY1) {
        atomicAddFloat(((b * h + y1) * w + x1) * channels + ch, east * south * g);
      }`;
    return `
  ${atomicAddFloatFunction('atomicAddFloat', 'result')}
  ${sourceCoordinateWgsl(this.attrs.paddingMode, this.attrs.alignCorners)}
  fn main(index : i32) {
    if (index < uniforms.numWork) {
      let g = dy[index];
      if (g == 0.0) {
        return;
      }
      let coords = getDyCoordsFromIndex(index);
      let b = coords.x;
      let ch = coords.w;
      let h = uniforms.outShape.y;
      let w = uniforms.outShape.z;
      let channels = uniforms.outShape.w;
      let px = sourceCoordinate(getGrid(b, coords.y, coords.z, 0), w);
      let py = sourceCoordinate(getGrid(b, coords.y, coords.z, 1), h);
      ${scatter}
    }
  }
`;
  }
}

/** dgrid (bilinear only): per grid point, Σ_c dy · ∂out/∂(ix, iy), times the coordinate derivative. */
class GridSampleGridGradProgram implements WebGPUProgramLike {
  variableNames = ['dy', 'x', 'grid'];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: DispatchLayout;
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  uniforms = 'numPoints : i32,';

  constructor(
    gridShape: number[],
    private readonly attrs: GridSampleAttrs,
  ) {
    this.outputShape = gridShape;
    this.shaderKey = shaderKey('cvmGridSampleGridGrad', attrs);
    ({
      dispatchLayout: this.dispatchLayout,
      dispatch: this.dispatch,
      workgroupSize: this.workgroupSize,
    } = flatDispatchFor(gridShape[0] * gridShape[1] * gridShape[2]));
  }

  getUserCode(): string {
    return `
  ${sourceCoordinateWgsl(this.attrs.paddingMode, this.attrs.alignCorners)}
  fn main(index : i32) {
    if (index < uniforms.numPoints) {
      let wo = uniforms.gridShape.z;
      let perBatch = uniforms.gridShape.y * wo;
      let b = index / perBatch;
      let i = (index - b * perBatch) / wo;
      let j = index - b * perBatch - i * wo;
      let h = uniforms.xShape.y;
      let w = uniforms.xShape.z;
      let channels = uniforms.xShape.w;
      let px = sourceCoordinate(getGrid(b, i, j, 0), w);
      let py = sourceCoordinate(getGrid(b, i, j, 1), h);
      ${bilinearTapsWgsl}
      var gix = 0.0;
      var giy = 0.0;
      for (var ch = 0; ch < channels; ch++) {
        let g = getDy(b, i, j, ch);
        let vNW = mNW * getX(b, cy0, cx0, ch);
        let vNE = mNE * getX(b, cy0, cx1, ch);
        let vSW = mSW * getX(b, cy1, cx0, ch);
        let vSE = mSE * getX(b, cy1, cx1, ch);
        gix += g * (north * (vNE - vNW) + south * (vSE - vSW));
        giy += g * (west * (vSW - vNW) + east * (vSE - vNE));
      }
      setOutputAtIndex(2 * index, gix * px.y);
      setOutputAtIndex(2 * index + 1, giy * py.y);
    }
  }
`;
  }
}

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

function gridSampleWebGPU({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { x, grid } = inputs as { x: tf.TensorInfo; grid: tf.TensorInfo };
  const program = new GridSampleProgram(
    [x.shape[0], grid.shape[1], grid.shape[2], x.shape[3]],
    attrs as unknown as GridSampleAttrs,
  );
  return (backend as WebGPUBackendLike).runWebGPUProgram(program, [x, grid], 'float32');
}

function gridSampleGradWebGPU({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const gpu = backend as WebGPUBackendLike;
  const { dy, x, grid } = inputs as { dy: tf.TensorInfo; x: tf.TensorInfo; grid: tf.TensorInfo };
  const a = attrs as unknown as GridSampleAttrs;
  const work = tf.util.sizeFromShape(dy.shape);
  const dx = zeros(gpu, x.shape);
  if (work > 0) {
    gpu.runWebGPUProgram(
      new GridSampleInputGradProgram(x.shape, work, a),
      [dy, grid],
      'float32',
      [{ type: 'int32', data: [work] }],
      dx,
    );
  }
  const points = grid.shape[0] * grid.shape[1] * grid.shape[2];
  const dgrid =
    a.mode === 'nearest' || points === 0
      ? zeros(gpu, grid.shape)
      : gpu.runWebGPUProgram(new GridSampleGridGradProgram(grid.shape, a), [dy, x, grid], 'float32', [
          { type: 'int32', data: [points] },
        ]);
  return [dx, dgrid];
}

tf.registerKernel({
  kernelName: GRID_SAMPLE,
  backendName: 'webgpu',
  kernelFunc: gridSampleWebGPU as tf.KernelFunc,
});
tf.registerKernel({
  kernelName: GRID_SAMPLE_GRAD,
  backendName: 'webgpu',
  kernelFunc: gridSampleGradWebGPU as tf.KernelFunc,
});
