import * as tf from '@tensorflow/tfjs-core';
import { gridSampleComposite, gridSampleInputGradComposite } from '../composite/grid-sample.js';
import {
  GRID_SAMPLE,
  GRID_SAMPLE_GRAD,
  GRID_SAMPLE_MODES,
  GRID_SAMPLE_PADDING_MODES,
  type GridSampleAttrs,
  type GridSampleMode,
  type GridSamplePaddingMode,
} from '../kernel-names.js';

export type { GridSampleMode, GridSamplePaddingMode } from '../kernel-names.js';

/** Options of {@link gridSample}; the defaults are PyTorch's. */
export interface GridSampleOptions {
  /** `'bilinear'` (default) or `'nearest'` (round half to even, as PyTorch's `nearbyint`). */
  mode?: GridSampleMode;
  /** `'zeros'` (default), `'border'` or `'reflection'`. */
  paddingMode?: GridSamplePaddingMode;
  /**
   * True: -1 and +1 are the centres of the corner pixels. False (default, as PyTorch): they are the
   * outer edges of the corner pixels.
   */
  alignCorners?: boolean;
  /**
   * `'auto'` (default): the backend's `CvmGridSample` kernel when registered, else the composite.
   * `'kernel'` fails when there is no kernel; `'composite'` forces the stock-op version (for tests).
   */
  implementation?: 'auto' | 'kernel' | 'composite';
}

const IMPLEMENTATIONS = ['auto', 'kernel', 'composite'];

function shapeString(t: tf.Tensor): string {
  return `[${t.shape.join(',')}]`;
}

function checkOneOf<T>(value: T, allowed: readonly T[], name: string): void {
  if (!allowed.includes(value)) {
    throw new Error(
      `gridSample: ${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(value)}`,
    );
  }
}

function checkArgs(input: unknown, grid: unknown, attrs: GridSampleAttrs, implementation: string): void {
  if (!(input instanceof tf.Tensor))
    throw new Error('gridSample: input must be a tf.Tensor of shape [B,H,W,C]');
  if (!(grid instanceof tf.Tensor))
    throw new Error('gridSample: grid must be a tf.Tensor of shape [B,Ho,Wo,2]');
  if (input.rank !== 4) {
    throw new Error(`gridSample: input must be rank 4 [B,H,W,C], got shape ${shapeString(input)}`);
  }
  if (grid.rank !== 4) {
    throw new Error(`gridSample: grid must be rank 4 [B,Ho,Wo,2], got shape ${shapeString(grid)}`);
  }
  if (grid.shape[3] !== 2) {
    throw new Error(`gridSample: grid's last dimension must be 2 (x, y), got shape ${shapeString(grid)}`);
  }
  if (input.shape[0] !== grid.shape[0]) {
    throw new Error(
      `gridSample: input and grid batch sizes differ: input ${shapeString(input)}, grid ${shapeString(grid)}`,
    );
  }
  if (input.shape[1] === 0 || input.shape[2] === 0) {
    throw new Error(
      `gridSample: input must have non-empty spatial dimensions, got shape ${shapeString(input)}`,
    );
  }
  if (input.dtype !== 'float32') throw new Error(`gridSample: input must be float32, got ${input.dtype}`);
  if (grid.dtype !== 'float32') throw new Error(`gridSample: grid must be float32, got ${grid.dtype}`);
  checkOneOf(attrs.mode, GRID_SAMPLE_MODES, 'mode');
  checkOneOf(attrs.paddingMode, GRID_SAMPLE_PADDING_MODES, 'paddingMode');
  if (typeof attrs.alignCorners !== 'boolean') {
    throw new Error(`gridSample: alignCorners must be a boolean, got ${JSON.stringify(attrs.alignCorners)}`);
  }
  checkOneOf(implementation, IMPLEMENTATIONS, 'implementation');
}

/**
 * The options with PyTorch's defaults, checked with the arguments, and whether `kernel` runs: it must
 * with `implementation: 'kernel'`, it may not with `'composite'`, and with `'auto'` it runs if registered.
 */
function resolveOptions(
  op: string,
  kernel: string,
  input: unknown,
  grid: unknown,
  options: GridSampleOptions,
): { attrs: GridSampleAttrs; useKernel: boolean } {
  const attrs: GridSampleAttrs = {
    mode: options.mode ?? 'bilinear',
    paddingMode: options.paddingMode ?? 'zeros',
    alignCorners: options.alignCorners ?? false,
  };
  const implementation = options.implementation ?? 'auto';
  checkArgs(input, grid, attrs, implementation);
  const backend = tf.getBackend();
  const hasKernel = tf.getKernel(kernel, backend) != null;
  if (implementation === 'kernel' && !hasKernel) {
    throw new Error(
      `${op}: implementation 'kernel' requested, but no ${kernel} kernel for backend '${backend}'`,
    );
  }
  return { attrs, useKernel: implementation !== 'composite' && hasKernel };
}

/**
 * Samples `input` at the normalised positions of `grid`: PyTorch's `F.grid_sample` (4-D case, 1.13),
 * NHWC. Differentiable w.r.t. `input` and `grid` (the grid gradient is zero for `'nearest'`, as in
 * PyTorch), on every backend: own kernels on cpu and webgpu, a stock-op composite elsewhere.
 *
 * `grid[b,i,j] = (x, y)` with x indexing width and y height; -1 / +1 are the corner pixel centres
 * (`alignCorners: true`, source pixel `(x+1)/2·(W-1)`) or the outer image edges (false, the default:
 * `((x+1)·W-1)/2`). Padding: `'zeros'` reads 0 outside the image (per bilinear tap); `'border'` clamps
 * the coordinate into `[0, W-1]`; `'reflection'` reflects it at the corner centres (alignCorners) or
 * the image edges, then clamps. Gradients w.r.t. the grid follow PyTorch exactly, including zero
 * derivative of the clamp at and beyond the border.
 *
 * Non-finite and huge grid values (PyTorch's `safe_downgrade_to_int_range`, made consistent): a
 * sample whose source coordinate is NaN, or ≥ 2^31 pixels away (before reflection, or after the
 * padding otherwise), counts as outside the image: every tap reads 0 and neither input gets a gradient
 * from that coordinate. So NaN samples 0 in every padding mode; ±inf and huge values sample 0 with
 * `'zeros'` and `'reflection'`, and the edge pixel (zero grid gradient) with `'border'`. PyTorch 1.13's
 * cpu kernel differs only there: NaN/inf give NaN (zeros) or crash (border), and huge reflected values
 * give float32 round-off garbage. Between 2^23 and 2^31 pixels, reflection is deterministic but
 * float32-limited. Gradients are never NaN for a finite upstream gradient.
 *
 * Gradients of the composite path need tfjs's stock gradients registered: import `@tensorflow/tfjs`
 * (or `@tensorflow/tfjs-core/dist/register_all_gradients`) when using tfjs-core alone.
 *
 * @param input `[B,H,W,C]` float32 (H, W ≥ 1)
 * @param grid `[B,Ho,Wo,2]` float32
 * @returns `[B,Ho,Wo,C]` float32
 * @example
 * ```ts
 * // Shift a [1,4,4,C] map right by one pixel (alignCorners: true → 1 pixel = 2/(W-1));
 * // xs, ys: [4,4] normalised pixel-centre coordinates, e.g. from tf.meshgrid(tf.linspace(-1, 1, 4), ...).
 * const grid = tf.expandDims(tf.stack([tf.sub(xs, 2 / 3), ys], -1), 0); // [1,4,4,2]
 * const out = gridSample(feature, grid, { mode: 'bilinear', paddingMode: 'zeros', alignCorners: true });
 * ```
 */
export function gridSample(
  input: tf.Tensor4D,
  grid: tf.Tensor4D,
  options: GridSampleOptions = {},
): tf.Tensor4D {
  const { attrs, useKernel } = resolveOptions('gridSample', GRID_SAMPLE, input, grid, options);
  if (!useKernel) {
    return gridSampleComposite(input, grid, attrs.mode, attrs.paddingMode, attrs.alignCorners);
  }
  return tf.engine().runKernel(GRID_SAMPLE, { x: input, grid }, attrs) as tf.Tensor4D;
}

/**
 * The gradient of {@link gridSample} w.r.t. its input for an upstream gradient `dy`: the transposed
 * sampling (every `dy` row added back to the input pixels it was sampled from, with the same weights).
 * Computed directly rather than by autodiff, so it may run inside another op's gradient function (where
 * tfjs does not support a nested `tf.grads`), e.g. to recompute a chunked op's backward pass: with the
 * backend's `CvmGridSampleGrad` kernel when it has one (`implementation: 'auto'`), else from stock ops
 * (a scatter). Not itself differentiable.
 * @param dy `[B,Ho,Wo,C]` float32
 * @param input `[B,H,W,C]` the forward call's input (the kernel reads it; the stock-op path only its shape)
 * @param grid `[B,Ho,Wo,2]` float32, the forward call's grid
 * @param options as for {@link gridSample}
 * @returns `[B,H,W,C]`, equal to `tf.grads((x) => tf.sum(tf.mul(gridSample(x, grid, options), dy)))([input])[0]`
 * @example const dx = gridSampleInputGrad(dy, x, grid, { alignCorners: true });
 */
export function gridSampleInputGrad(
  dy: tf.Tensor4D,
  input: tf.Tensor4D,
  grid: tf.Tensor4D,
  options: GridSampleOptions = {},
): tf.Tensor4D {
  const { attrs, useKernel } = resolveOptions('gridSampleInputGrad', GRID_SAMPLE_GRAD, input, grid, options);
  if (!(dy instanceof tf.Tensor) || dy.dtype !== 'float32')
    throw new Error('gridSampleInputGrad: dy must be a float32 tf.Tensor of shape [B,Ho,Wo,C]');
  const expected = [input.shape[0], grid.shape[1], grid.shape[2], input.shape[3]];
  if (!tf.util.arraysEqual(dy.shape, expected))
    throw new Error(
      `gridSampleInputGrad: dy must be [${expected}] for this input and grid, got ${shapeString(dy)}`,
    );
  if (!useKernel) {
    const shape = input.shape as [number, number, number, number];
    return gridSampleInputGradComposite(dy, grid, shape, attrs.mode, attrs.paddingMode, attrs.alignCorners);
  }
  const [dx, dgrid] = tf.engine().runKernel(GRID_SAMPLE_GRAD, { dy, x: input, grid }, attrs) as tf.Tensor[];
  dgrid.dispose();
  return dx as tf.Tensor4D;
}
