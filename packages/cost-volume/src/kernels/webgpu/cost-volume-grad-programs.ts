import {
  type CostVolumeSizes,
  type FlatProgram,
  SAMPLE_SNIPPET,
  SIZE_UNIFORMS,
  flatProgram,
} from './sampling.js';
import { atomicAddFloatFunction } from '@cvm/geometry/webgpu';

/**
 * The backward pass runs in three steps that share one table of sampling "runs":
 *  1. {@link costVolumeRunsProgram}: per reference pixel, walks the L candidates and merges consecutive
 *     candidates that address the same four neighbour taps (neighbouring depth candidates usually move
 *     the sample by a fraction of a pixel) into one run: its four neighbour rows and the summed bilinear
 *     weights times dy·(1/√C), zero for taps outside the image;
 *  2. {@link costVolumeGradReferenceProgram}: dReference[p, c] = Σ_runs Σ_k w_k · neighbour[row_k, c], a
 *     pure gather;
 *  3. {@link costVolumeGradNeighbourProgram}: dNeighbour[row_k, c] += w_k · reference[p, c], a scatter done
 *     with float atomic adds into a zeroed output (`zeros` of `@cvm/geometry/webgpu`).
 * Merging is exact (bilinear sampling is linear in the weights) and only changes float summation order.
 */

/**
 * Run table, one invocation per reference pixel. Inputs: dy `[B,H,W,L]`, projection `[B,12]`,
 * inverseDepths `[B,L]`. Output `[B·H·W·L, 8]`: per pixel up to L runs of (weights (4), neighbour rows as
 * exact f32 integers (4)), then a terminator with row −1 when fewer than L runs.
 */
export function costVolumeRunsProgram(s: CostVolumeSizes): FlatProgram {
  const pixels = s.batch * s.height * s.width;
  return flatProgram(
    {
      variableNames: ['dy', 'projection', 'inverseDepths'],
      variableComponents: [1, 1, 1],
      outputComponent: 4,
      outputShape: [pixels * s.depths, 8],
      shaderKey: 'CvmCostVolumeRuns',
      uniforms: SIZE_UNIFORMS,
      getUserCode: () => `
        ${SAMPLE_SNIPPET}

        fn main(pixel : i32) {
          if (pixel >= uniforms.threads) {
            return;
          }
          let x = pixel % uniforms.width;
          let by = pixel / uniforms.width;
          let y = by % uniforms.height;
          let b = by / uniforms.height;
          let first = pixel * uniforms.depths;
          var runs = 0;
          var current = vec4<i32>(-1);
          var acc = vec4<f32>(0.0);
          for (var l = 0; l < uniforms.depths; l++) {
            let s = cvmSample(b, x, y, l);
            let w = cvmTapWeights(s) * (dy[first + l] * uniforms.scale);
            if (any(w != vec4<f32>(0.0))) {
              let rows = cvmTapRows(b, s);
              if (any(rows != current)) {
                if (current.x >= 0) {
                  result[2 * (first + runs)] = acc;
                  result[2 * (first + runs) + 1] = vec4<f32>(current);
                  runs++;
                }
                current = rows;
                acc = w;
              } else {
                acc += w;
              }
            }
          }
          if (current.x >= 0) {
            result[2 * (first + runs)] = acc;
            result[2 * (first + runs) + 1] = vec4<f32>(current);
            runs++;
          }
          if (runs < uniforms.depths) {
            result[2 * (first + runs)] = vec4<f32>(0.0);
            result[2 * (first + runs) + 1] = vec4<f32>(-1.0);
          }
        }
      `,
    },
    pixels,
  );
}

/**
 * dReference, one invocation per (b, y, x, channel item). Inputs: runs `[B·H·W·L, 8]`, neighbour
 * `[B,H,W,C]`; output `[B,H,W,C]`. With `vec4`, an item is 4 channels (requires C % 4 == 0).
 */
export function costVolumeGradReferenceProgram(s: CostVolumeSizes, vec4: boolean): FlatProgram {
  const k = vec4 ? 4 : 1;
  const threads = (s.batch * s.height * s.width * s.channels) / k;
  return flatProgram(
    {
      variableNames: ['runs', 'neighbour'],
      variableComponents: [4, k],
      outputComponent: k,
      outputShape: [s.batch, s.height, s.width, s.channels],
      shaderKey: `CvmCostVolumeGradReference_${vec4 ? 'vec4' : 'scalar'}`,
      uniforms: SIZE_UNIFORMS,
      getUserCode: () => `
        fn main(index : i32) {
          if (index >= uniforms.threads) {
            return;
          }
          let items = uniforms.channels / ${k};
          let pixel = index / items;
          let c = index - pixel * items;
          var acc = ${vec4 ? 'vec4<f32>(0.0)' : '0.0'};
          let first = 2 * pixel * uniforms.depths;
          for (var r = 0; r < uniforms.depths; r++) {
            let at = vec4<i32>(runs[first + 2 * r + 1]);
            if (at.x < 0) {
              break;
            }
            let w = runs[first + 2 * r];
            let rows = at * items + c;
            acc += w.x * neighbour[rows.x] + w.y * neighbour[rows.y] + w.z * neighbour[rows.z] +
                w.w * neighbour[rows.w];
          }
          result[index] = acc;
        }
      `,
    },
    threads,
  );
}

/**
 * dNeighbour by scatter, one invocation per (b, y, x, channel item) of the reference: for each run, adds
 * weight·reference at the four taps with a compare-exchange loop on the bits (WGSL has no float
 * atomics; `atomicAddFloatFunction` of `@cvm/geometry/webgpu`). The output must be zero-filled and is passed to `runWebGPUProgram`; the summation order is
 * not deterministic (differences of a few ulp). Inputs: runs `[B·H·W·L, 8]`, reference `[B,H,W,C]`;
 * output `[B,H,W,C]`.
 */
export function costVolumeGradNeighbourProgram(s: CostVolumeSizes, vec4: boolean): FlatProgram {
  const k = vec4 ? 4 : 1;
  const threads = (s.batch * s.height * s.width * s.channels) / k;
  const lanes = vec4 ? ['.x', '.y', '.z', '.w'] : [''];
  const addTap = (tap: string) =>
    lanes.map((lane, j) => `cvmAtomicAdd(rows.${tap} + ${j}, w.${tap} * value${lane});`).join('\n');
  return flatProgram(
    {
      variableNames: ['runs', 'reference'],
      variableComponents: [4, k],
      atomic: true,
      outputShape: [s.batch, s.height, s.width, s.channels],
      shaderKey: `CvmCostVolumeGradNeighbour_${vec4 ? 'vec4' : 'scalar'}`,
      uniforms: SIZE_UNIFORMS,
      getUserCode: () => `
        ${atomicAddFloatFunction('cvmAtomicAdd')}

        fn main(index : i32) {
          if (index >= uniforms.threads) {
            return;
          }
          let items = uniforms.channels / ${k};
          let pixel = index / items;
          let c = index - pixel * items;
          let value = reference[index];
          let first = 2 * pixel * uniforms.depths;
          for (var r = 0; r < uniforms.depths; r++) {
            let at = vec4<i32>(runs[first + 2 * r + 1]);
            if (at.x < 0) {
              break;
            }
            let w = runs[first + 2 * r];
            let rows = at * uniforms.channels + c * ${k};
            if (w.x != 0.0) { ${addTap('x')} }
            if (w.y != 0.0) { ${addTap('y')} }
            if (w.z != 0.0) { ${addTap('z')} }
            if (w.w != 0.0) { ${addTap('w')} }
          }
        }
      `,
    },
    threads,
  );
}
