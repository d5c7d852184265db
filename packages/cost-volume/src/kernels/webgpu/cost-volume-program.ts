import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { type CostVolumeSizes, SAMPLE_SNIPPET, SIZE_UNIFORMS, flatProgram } from './program-utils.js';

/**
 * Forward cost volume, one invocation per output element (b, y, x, l): project, then dot the reference
 * feature with the bilinear sample of the neighbour over all channels.
 * Inputs: reference, neighbour `[B,H,W,C]`, projection `[B,12]`, inverseDepths `[B,L]`; output `[B,H,W,L]`.
 * With `vec4`, features are read as `vec4<f32>` (requires C % 4 == 0).
 */
export function costVolumeProgram(s: CostVolumeSizes, vec4: boolean): WebGPUProgram {
  const threads = s.batch * s.height * s.width * s.depths;
  const feature = vec4 ? 'vec4<f32>' : 'f32';
  const accumulate = vec4 ? 'acc += dot(reference[r + c], sampled);' : 'acc += reference[r + c] * sampled;';
  const channelsPerItem = vec4 ? 4 : 1;
  return flatProgram(
    {
      variableNames: ['reference', 'neighbour', 'projection', 'inverseDepths'],
      variableComponents: [channelsPerItem, channelsPerItem, 1, 1],
      outputShape: [s.batch, s.height, s.width, s.depths],
      shaderKey: `CvmCostVolume_${vec4 ? 'vec4' : 'scalar'}`,
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
          let w = cvmTapWeights(s);
          var acc = 0.0;
          if (any(w != vec4<f32>(0.0))) {
            let items = uniforms.channels / ${channelsPerItem};
            let rows = cvmTapRows(b, s) * items;
            let r = pixel * items;
            for (var c = 0; c < items; c++) {
              let sampled : ${feature} = w.x * neighbour[rows.x + c] + w.y * neighbour[rows.y + c] +
                  w.z * neighbour[rows.z + c] + w.w * neighbour[rows.w + c];
              ${accumulate}
            }
          }
          result[index] = acc * uniforms.scale;
        }
      `,
    },
    threads,
  );
}
