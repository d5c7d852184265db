import { MIN_PROJECTED_DEPTH } from '@cvm/geometry';
import { flatDispatchFor } from '@cvm/geometry/webgpu';
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import type { CostVolumeSizes } from '../cpu-impl.js';

/**
 * The pieces the cost-volume WebGPU programs share: their size uniforms, the flat program shape, and the
 * WGSL that projects and samples one candidate. Generic WebGPU helpers (dispatch, zero fill, float atomic
 * add) come from `@cvm/geometry/webgpu`. Only types come from `@tensorflow/tfjs-backend-webgpu`, so
 * registering the kernels costs no runtime dependency.
 */

export type { CostVolumeSizes };

/**
 * WGSL uniform members shared by the programs: `threads` is the number of invocations doing work
 * (the dispatch is rounded up to whole workgroups); `scale` is 1/√C.
 */
export const SIZE_UNIFORMS =
  'threads : i32, height : i32, width : i32, channels : i32, depths : i32, scale : f32,';

/** The uniform values matching {@link SIZE_UNIFORMS}. */
export function sizeUniforms(
  { threads }: { threads: number },
  s: CostVolumeSizes,
): Array<{ type: 'int32' | 'float32'; data: number[] }> {
  return [
    { type: 'int32', data: [threads] },
    { type: 'int32', data: [s.height] },
    { type: 'int32', data: [s.width] },
    { type: 'int32', data: [s.channels] },
    { type: 'int32', data: [s.depths] },
    { type: 'float32', data: [1 / Math.sqrt(s.channels)] },
  ];
}

/** A program plus the number of invocations that do work (pass it as the `threads` uniform). */
export interface FlatProgram extends WebGPUProgram {
  threads: number;
}

/**
 * A flat program: one invocation per work item, `main(index)` called with the global index (the
 * backend reshapes the dispatch to 2D/3D when it exceeds the per-dimension limit); `main` guards on
 * `uniforms.threads`.
 */
export function flatProgram(
  fields: Omit<WebGPUProgram, 'dispatch' | 'dispatchLayout' | 'workgroupSize'>,
  threads: number,
): FlatProgram {
  return { ...fields, threads, ...flatDispatchFor(Math.max(1, threads)) };
}

/**
 * WGSL that maps reference pixel (x, y) of batch item b at candidate l into the neighbour view.
 * Expects inputs named `projection` ([B,12]) and `inverseDepths` ([B,L]) and the size uniforms.
 *
 * With d = 1/ι the contract is P = d·q + t, z = max(P_z, 1e-3), (u, v) = P_xy / z. It is evaluated in the
 * homogeneous form h = q + ι·t = ι·P, which never overflows: unclamped, (u, v) = h_xy / h_z; clamped,
 * (u, v) = h_xy / (ι·1e-3). Divisions are only done once |u|, |v| ≤ 1e7 is known, so the f32 → i32
 * conversion of floor(u) is safe; ι that is not finite and > 0 gives `valid = false` (all taps out).
 */
export const SAMPLE_SNIPPET = `
  struct CvmSample {
    valid : bool,
    x0 : i32,
    y0 : i32,
    wx1 : f32,
    wy1 : f32,
  };

  fn cvmSample(b : i32, x : i32, y : i32, l : i32) -> CvmSample {
    var s : CvmSample;
    let o = b * 12;
    let fx = f32(x);
    let fy = f32(y);
    let iota = inverseDepths[b * uniforms.depths + l];
    let hx = projection[o] * fx + projection[o + 1] * fy + projection[o + 2] + iota * projection[o + 9];
    let hy = projection[o + 3] * fx + projection[o + 4] * fy + projection[o + 5] + iota * projection[o + 10];
    let hz = projection[o + 6] * fx + projection[o + 7] * fy + projection[o + 8] + iota * projection[o + 11];
    let minZ = ${MIN_PROJECTED_DEPTH.toExponential()} * abs(iota);
    // P_z >= 1e-3  <=>  sign(iota) * h_z >= 1e-3 * |iota|
    let unclamped = select(-hz, hz, iota > 0.0) >= minZ;
    let den = select(select(-minZ, minZ, iota > 0.0), hz, unclamped);
    let lim = 1e7 * abs(den);
    // Comparisons are false for NaN, so NaN inputs fall out here too; so do candidates that are not
    // finite and > 0 (the op does not read the candidates on the host to check them).
    s.valid = iota > 0.0 && iota <= 3.4028234e38 && den != 0.0 && abs(hx) <= lim && abs(hy) <= lim;
    if (!s.valid) {
      return s;
    }
    let u = hx / den;
    let v = hy / den;
    let fu = floor(u);
    let fv = floor(v);
    s.x0 = i32(fu);
    s.y0 = i32(fv);
    s.wx1 = u - fu;
    s.wy1 = v - fv;
    return s;
  }

  // Bilinear tap weights (x0,y0), (x0+1,y0), (x0,y0+1), (x0+1,y0+1), zero for taps outside the image.
  fn cvmTapWeights(s : CvmSample) -> vec4<f32> {
    if (!s.valid) {
      return vec4<f32>(0.0);
    }
    let wx0 = 1.0 - s.wx1;
    let wy0 = 1.0 - s.wy1;
    let inX0 = s.x0 >= 0 && s.x0 < uniforms.width;
    let inX1 = s.x0 + 1 >= 0 && s.x0 + 1 < uniforms.width;
    let inY0 = s.y0 >= 0 && s.y0 < uniforms.height;
    let inY1 = s.y0 + 1 >= 0 && s.y0 + 1 < uniforms.height;
    return vec4<f32>(
      select(0.0, wx0 * wy0, inX0 && inY0),
      select(0.0, s.wx1 * wy0, inX1 && inY0),
      select(0.0, wx0 * s.wy1, inX0 && inY1),
      select(0.0, s.wx1 * s.wy1, inX1 && inY1));
  }

  // Neighbour rows (b*H + y)*W + x of the four taps, clamped into the image (their weight is 0 when
  // clamping moved them).
  fn cvmTapRows(b : i32, s : CvmSample) -> vec4<i32> {
    let xa = clamp(s.x0, 0, uniforms.width - 1);
    let xb = clamp(s.x0 + 1, 0, uniforms.width - 1);
    let ya = (b * uniforms.height + clamp(s.y0, 0, uniforms.height - 1)) * uniforms.width;
    let yb = (b * uniforms.height + clamp(s.y0 + 1, 0, uniforms.height - 1)) * uniforms.width;
    return vec4<i32>(ya + xa, ya + xb, yb + xa, yb + xb);
  }
`;
