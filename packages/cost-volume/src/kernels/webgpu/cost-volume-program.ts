import {
  type CostVolumeSizes,
  type FlatProgram,
  SAMPLE_SNIPPET,
  SIZE_UNIFORMS,
  flatProgram,
} from './sampling.js';

/** Consecutive depth candidates handled by one invocation of the forward program. */
export const DEPTHS_PER_THREAD = 32;

/**
 * Forward cost volume, one invocation per reference pixel and block of {@link DEPTHS_PER_THREAD}
 * candidates. For each candidate it projects, and when the four bilinear taps differ from the previous
 * candidate's it recomputes the four dot products reference·neighbour[tap] over all channels; the
 * output is then the bilinear blend of those four dots. Neighbouring candidates usually sample the same
 * 2×2 taps, so this does far fewer channel loops than one per candidate (and the same number at worst).
 * Inputs: reference, neighbour `[B,H,W,C]`, projection `[B,12]`, inverseDepths `[B,L]`; output `[B,H,W,L]`.
 * With `vec4`, features are read as `vec4<f32>` (requires C % 4 == 0).
 */
export function costVolumeProgram(
  s: CostVolumeSizes,
  vec4: boolean,
  depthsPerThread = DEPTHS_PER_THREAD,
): FlatProgram {
  const blocks = Math.ceil(s.depths / depthsPerThread);
  const threads = s.batch * s.height * s.width * blocks;
  const k = vec4 ? 4 : 1;
  const dot = (tap: string) =>
    vec4 ? `dot(r, neighbour[rows.${tap} + c])` : `r * neighbour[rows.${tap} + c]`;
  return flatProgram(
    {
      variableNames: ['reference', 'neighbour', 'projection', 'inverseDepths'],
      variableComponents: [k, k, 1, 1],
      outputShape: [s.batch, s.height, s.width, s.depths],
      shaderKey: `CvmCostVolume_${vec4 ? 'vec4' : 'scalar'}_${depthsPerThread}`,
      uniforms: SIZE_UNIFORMS,
      getUserCode: () => `
        ${SAMPLE_SNIPPET}

        fn main(index : i32) {
          if (index >= uniforms.threads) {
            return;
          }
          let blocks = (uniforms.depths + ${depthsPerThread - 1}) / ${depthsPerThread};
          let pixel = index / blocks;
          let start = (index - pixel * blocks) * ${depthsPerThread};
          let end = min(start + ${depthsPerThread}, uniforms.depths);
          let x = pixel % uniforms.width;
          let by = pixel / uniforms.width;
          let y = by % uniforms.height;
          let b = by / uniforms.height;
          let items = uniforms.channels / ${k};
          let own = pixel * items;
          var current = vec4<i32>(-1);
          var dots = vec4<f32>(0.0);
          for (var l = start; l < end; l++) {
            let s = cvmSample(b, x, y, l);
            let w = cvmTapWeights(s);
            var value = 0.0;
            if (any(w != vec4<f32>(0.0))) {
              let rows = cvmTapRows(b, s) * items;
              if (any(rows != current)) {
                current = rows;
                dots = vec4<f32>(0.0);
                for (var c = 0; c < items; c++) {
                  let r = reference[own + c];
                  dots += vec4<f32>(${dot('x')}, ${dot('y')}, ${dot('z')}, ${dot('w')});
                }
              }
              value = dot(w, dots) * uniforms.scale;
            }
            result[pixel * uniforms.depths + l] = value;
          }
        }
      `,
    },
    threads,
  );
}
