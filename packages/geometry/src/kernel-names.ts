/**
 * Kernel names and attributes of the `gridSample` op, shared by the op, the per-backend kernels and the
 * gradient (as tfjs's own `kernel_names.ts`).
 */

/** Forward kernel. Inputs `{x: [B,H,W,C], grid: [B,Ho,Wo,2]}` → `[B,Ho,Wo,C]`. */
export const GRID_SAMPLE = 'CvmGridSample';
/** Backward kernel. Inputs `{dy: [B,Ho,Wo,C], x, grid}` → `[dx: [B,H,W,C], dgrid: [B,Ho,Wo,2]]`. */
export const GRID_SAMPLE_GRAD = 'CvmGridSampleGrad';

/** How a sample is read from the four (bilinear) or one (nearest) neighbouring pixels. */
export type GridSampleMode = 'bilinear' | 'nearest';
/** What is read outside the image: zeros, the clamped border pixel, or the image reflected at its border. */
export type GridSamplePaddingMode = 'zeros' | 'border' | 'reflection';

/** Attributes of both kernels (a plain record so that it is a tfjs `NamedAttrMap`). */
export interface GridSampleAttrs {
  [name: string]: string | boolean;
  mode: GridSampleMode;
  paddingMode: GridSamplePaddingMode;
  alignCorners: boolean;
}

export const GRID_SAMPLE_MODES: readonly GridSampleMode[] = ['bilinear', 'nearest'];
export const GRID_SAMPLE_PADDING_MODES: readonly GridSamplePaddingMode[] = ['zeros', 'border', 'reflection'];

/**
 * Source coordinates at or beyond this magnitude (and NaN) count as "nowhere": PyTorch replaces them
 * with -100 (`safe_downgrade_to_int_range`) so that every tap is out of bounds. We do the same.
 */
export const MAX_SOURCE_COORDINATE = 2147483520; // largest float32 below 2^31
/** Where out-of-range / NaN source coordinates are moved to, as PyTorch does. */
export const NOWHERE = -100;
