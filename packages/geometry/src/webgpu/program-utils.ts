/**
 * Reusable helpers for WebGPU kernels on tfjs-backend-webgpu, with no runtime dependency on it:
 * the program / backend interfaces kernels need, flat dispatch layout and dispatch size, a zero-fill
 * program, and a WGSL float atomic add (emulated with compare-exchange on the bits).
 *
 * Import from `@cvm/geometry/webgpu`. Example, a scatter-add kernel body:
 * ```ts
 * const out = zeros(backend, outShape); // float zeros on the GPU
 * const program = { ...flatDispatchFor(n), variableNames: ['v', 'idx'], outputShape: outShape, atomic: true,
 *   shaderKey: 'myScatter', uniforms: 'n : i32,', getUserCode: () => `${atomicAddFloatFunction()}
 *   fn main(index : i32) { if (index < uniforms.n) { atomicAddFloat(idx[index], v[index]); } }` };
 * backend.runWebGPUProgram(program, [v, idx], 'float32', [{ type: 'int32', data: [n] }], out); // returns out
 * ```
 */
import type * as tf from '@tensorflow/tfjs-core';

/** Which output dimensions map to the x / y / z dispatch axes. */
export interface DispatchLayout {
  x: number[];
  y?: number[];
  z?: number[];
}

/**
 * The fields of tfjs-backend-webgpu's `WebGPUProgram` that a program sets (structurally compatible
 * with it; the backend fills in `shaderKey` suffixes and `pipeline`).
 */
export interface WebGPUProgramLike {
  /** Input names, bound in order; each input `x` gets `getX(d0, ...)` and `uniforms.xShape`. */
  variableNames: string[];
  outputShape: number[];
  /** Must encode everything that changes the WGSL text (shapes are uniforms). */
  shaderKey: string;
  dispatchLayout: DispatchLayout;
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  /** Extra uniform struct members, e.g. `'numWork : i32,'`. */
  uniforms?: string;
  /** Adds `uniforms.size` = number of output elements. */
  size?: boolean;
  /** Declares the output as `array<atomic<i32>>` (see {@link atomicAddFloatFunction}). */
  atomic?: boolean;
  /** With a flat layout, must define `fn main(index : i32)`. */
  getUserCode(): string;
}

/** Values of program-defined uniforms, in the order of `WebGPUProgramLike.uniforms`. */
export type ProgramUniforms = { type: 'float32' | 'int32' | 'uint32'; data: number[] }[];

/** The part of tfjs-backend-webgpu's `WebGPUBackend` kernels use. */
export interface WebGPUBackendLike {
  runWebGPUProgram(
    program: WebGPUProgramLike,
    inputs: tf.TensorInfo[],
    outputDtype: tf.DataType,
    programUniforms?: ProgramUniforms,
    output?: tf.TensorInfo,
  ): tf.TensorInfo;
  disposeData(dataId: tf.DataId, force?: boolean): boolean;
}

/** Workgroup size used by the flat programs here. */
export const FLAT_WORKGROUP_SIZE: [number, number, number] = [64, 1, 1];

/** All dimensions of `shape` on the x dispatch axis: one invocation per element, `main(index)`. */
export function flatDispatchLayout(shape: number[]): DispatchLayout {
  return { x: shape.map((_, i) => i) };
}

/**
 * Number of workgroups per axis for `layout` over `shape`. The backend reshapes an x count above the
 * device limit into 2-D/3-D itself (so `main(index)` still receives a flat index).
 */
export function computeDispatch(
  layout: DispatchLayout,
  shape: number[],
  workgroupSize: [number, number, number] = FLAT_WORKGROUP_SIZE,
  elementsPerThread: [number, number, number] = [1, 1, 1],
): [number, number, number] {
  const count = (dims: number[] | undefined, axis: number) =>
    dims
      ? Math.ceil(dims.reduce((p, d) => p * shape[d], 1) / (workgroupSize[axis] * elementsPerThread[axis]))
      : 1;
  return [count(layout.x, 0), count(layout.y, 1), count(layout.z, 2)];
}

/**
 * Layout and dispatch for `work` independent invocations, regardless of the output shape (e.g. one
 * per input element of a scatter, or one per output row). Guard with `if (index < uniforms.<n>)`.
 */
export function flatDispatchFor(
  work: number,
): Pick<WebGPUProgramLike, 'dispatchLayout' | 'dispatch' | 'workgroupSize'> {
  const dispatchLayout = flatDispatchLayout([work]);
  return {
    dispatchLayout,
    dispatch: computeDispatch(dispatchLayout, [work], FLAT_WORKGROUP_SIZE),
    workgroupSize: FLAT_WORKGROUP_SIZE,
  };
}

/**
 * WGSL for `fn <name>(index : i32, value : f32)` adding `value` to `<buffer>[index]` atomically, for an
 * output declared `array<atomic<i32>>` (`atomic: true`; the buffer is `result`). WGSL has no float
 * atomics: reinterpret the bits, add in f32, and retry the compare-exchange until no other invocation
 * has changed the element in between. The buffer must start as float zeros (bits 0, see {@link zeros}).
 */
export function atomicAddFloatFunction(name = 'atomicAddFloat', buffer = 'result'): string {
  return `
  fn ${name}(index : i32, value : f32) {
    var expected = atomicLoad(&${buffer}[index]);
    loop {
      let desired = bitcast<i32>(bitcast<f32>(expected) + value);
      let swap = atomicCompareExchangeWeak(&${buffer}[index], expected, desired);
      if (swap.exchanged) {
        break;
      }
      expected = swap.old_value;
    }
  }
`;
}

/** Writes 0 to every element of a new `shape` tensor (float32 0.0 and int32 0 share bits). */
class ZeroFillProgram implements WebGPUProgramLike {
  variableNames: string[] = [];
  outputShape: number[];
  shaderKey = 'cvmZeroFill';
  dispatchLayout: DispatchLayout;
  dispatch: [number, number, number];
  workgroupSize = FLAT_WORKGROUP_SIZE;
  size = true;

  constructor(shape: number[]) {
    this.outputShape = shape;
    this.dispatchLayout = flatDispatchLayout(shape);
    this.dispatch = computeDispatch(this.dispatchLayout, shape, this.workgroupSize);
  }

  getUserCode(): string {
    return `
  fn main(index : i32) {
    if (index < uniforms.size) {
      setOutputAtIndex(index, 0);
    }
  }
`;
  }
}

/**
 * A zero-initialised `shape` tensor on the GPU, e.g. as the pre-filled output (5th argument of
 * `runWebGPUProgram`) of an atomic scatter program.
 */
export function zeros(
  backend: WebGPUBackendLike,
  shape: number[],
  dtype: 'float32' | 'int32' = 'float32',
): tf.TensorInfo {
  return backend.runWebGPUProgram(new ZeroFillProgram(shape), [], dtype);
}
