import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { type CostVolumeSizes, SAMPLE_SNIPPET, SIZE_UNIFORMS, flatProgram } from './program-utils.js';

/**
 * The backward pass runs in three steps that share one "tap table" of the sampling positions:
 *  1. {@link costVolumeTapsProgram}: per (b, y, x, l), the four bilinear weights already multiplied by
 *     dy·(1/√C) (zero for taps outside the image), and the four neighbour rows they address;
 *  2. {@link costVolumeGradReferenceProgram}: dReference[p, c] = Σ_l Σ_k w_k · neighbour[row_k, c],
 *     a pure gather;
 *  3. {@link costVolumeGradNeighbourProgram}: dNeighbour[row_k, c] += w_k · reference[p, c], a scatter done
 *     with float atomic adds into a zeroed output ({@link zerosProgram}).
 */

/**
 * Tap table, one invocation per (b, y, x, l). Inputs: dy `[B,H,W,L]`, projection `[B,12]`,
 * inverseDepths `[B,L]`. Output `[B·H·W·L, 8]`: weights (4) then rows as exact f32 integers (4).
 */
export function costVolumeTapsProgram(s: CostVolumeSizes): WebGPUProgram {
  const threads = s.batch * s.height * s.width * s.depths;
  return flatProgram(
    {
      variableNames: ['dy', 'projection', 'inverseDepths'],
      variableComponents: [1, 1, 1],
      outputComponent: 4,
      outputShape: [threads, 8],
      shaderKey: 'CvmCostVolumeTaps',
      uniforms: SIZE_UNIFORMS,
      getUserCode: () => `
        ${SAMPLE_SNIPPET}

        fn main(index : i32) {
          if (index >= uniforms.threads) {
            return;
          }
          let pixel = index / uniforms.depths;
          let l = index - pixel * uniforms.depths;
          let x = pixel % uniforms.width;
          let by = pixel / uniforms.width;
          let y = by % uniforms.height;
          let b = by / uniforms.height;
          let s = cvmSample(b, x, y, l);
          result[2 * index] = cvmTapWeights(s) * (dy[index] * uniforms.scale);
          result[2 * index + 1] = vec4<f32>(cvmTapRows(b, s));
        }
      `,
    },
    threads,
  );
}

/**
 * dReference, one invocation per (b, y, x, channel item). Inputs: taps `[B·H·W·L, 8]`, neighbour
 * `[B,H,W,C]`; output `[B,H,W,C]`. With `vec4`, an item is 4 channels (requires C % 4 == 0).
 */
export function costVolumeGradReferenceProgram(s: CostVolumeSizes, vec4: boolean): WebGPUProgram {
  const k = vec4 ? 4 : 1;
  const threads = (s.batch * s.height * s.width * s.channels) / k;
  return flatProgram(
    {
      variableNames: ['taps', 'neighbour'],
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
          for (var l = 0; l < uniforms.depths; l++) {
            let w = taps[first + 2 * l];
            if (any(w != vec4<f32>(0.0))) {
              let rows = vec4<i32>(taps[first + 2 * l + 1]) * items + c;
              acc += w.x * neighbour[rows.x] + w.y * neighbour[rows.y] + w.z * neighbour[rows.z] +
                  w.w * neighbour[rows.w];
            }
          }
          result[index] = acc;
        }
      `,
    },
    threads,
  );
}

/**
 * dNeighbour by scatter, one invocation per (b, y, x, channel item) of the reference: walks its L
 * candidates, merges consecutive candidates that hit the same four taps (common: neighbouring depth
 * candidates move the sample by less than a pixel), and adds weight·reference into the output with a
 * compare-exchange loop on the bits (WGSL has no float atomics). The output must be zero-filled and is
 * passed to `runWebGPUProgram`; the summation order is not deterministic (differences ~1 ulp).
 * Inputs: taps `[B·H·W·L, 8]`, reference `[B,H,W,C]`; output `[B,H,W,C]`.
 */
export function costVolumeGradNeighbourProgram(s: CostVolumeSizes, vec4: boolean): WebGPUProgram {
  const k = vec4 ? 4 : 1;
  const threads = (s.batch * s.height * s.width * s.channels) / k;
  const lanes = vec4 ? ['x', 'y', 'z', 'w'] : [''];
  const addTap = (tap: string) =>
    lanes
      .map((lane, j) => `cvmAtomicAdd(rows.${tap} + ${j}, acc.${tap} * value${lane ? `.${lane}` : ''});`)
      .join('\n');
  return flatProgram(
    {
      variableNames: ['taps', 'reference'],
      variableComponents: [4, k],
      atomic: true,
      outputShape: [s.batch, s.height, s.width, s.channels],
      shaderKey: `CvmCostVolumeGradNeighbour_${vec4 ? 'vec4' : 'scalar'}`,
      uniforms: SIZE_UNIFORMS,
      getUserCode: () => `
        fn cvmAtomicAdd(i : i32, v : f32) {
          var old = atomicLoad(&result[i]);
          loop {
            let r = atomicCompareExchangeWeak(&result[i], old, bitcast<i32>(bitcast<f32>(old) + v));
            if (r.exchanged) {
              break;
            }
            old = r.old_value;
          }
        }

        // Adds acc[k] * value at the four taps; rows are flat element offsets of channel item c.
        fn cvmFlush(rows : vec4<i32>, acc : vec4<f32>, value : ${vec4 ? 'vec4<f32>' : 'f32'}) {
          if (acc.x != 0.0) { ${addTap('x')} }
          if (acc.y != 0.0) { ${addTap('y')} }
          if (acc.z != 0.0) { ${addTap('z')} }
          if (acc.w != 0.0) { ${addTap('w')} }
        }

        fn main(index : i32) {
          if (index >= uniforms.threads) {
            return;
          }
          let items = uniforms.channels / ${k};
          let pixel = index / items;
          let c = index - pixel * items;
          let value = reference[index];
          let first = 2 * pixel * uniforms.depths;
          var current = vec4<i32>(-1);
          var acc = vec4<f32>(0.0);
          for (var l = 0; l < uniforms.depths; l++) {
            let w = taps[first + 2 * l];
            if (any(w != vec4<f32>(0.0))) {
              let rows = vec4<i32>(taps[first + 2 * l + 1]) * uniforms.channels + c * ${k};
              if (any(rows != current)) {
                cvmFlush(current, acc, value);
                current = rows;
                acc = w;
              } else {
                acc += w;
              }
            }
          }
          cvmFlush(current, acc, value);
        }
      `,
    },
    threads,
  );
}

/** Fills a float32 output of the given shape with zeros (the accumulator of the atomic scatter). */
export function zerosProgram(shape: number[]): WebGPUProgram {
  const threads = shape.reduce((a, b) => a * b, 1);
  return flatProgram(
    {
      variableNames: [],
      outputShape: shape,
      shaderKey: 'CvmZeros',
      uniforms: 'threads : i32,',
      getUserCode: () => `
        fn main(index : i32) {
          if (index < uniforms.threads) {
            result[index] = 0.0;
          }
        }
      `,
    },
    threads,
  );
}
