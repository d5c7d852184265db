import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { checkpointedGradients, manualSeed, type Segment } from '@cvm/nn';
import { expectClose, expectNoLeaks, seededUniform } from '@cvm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createEncoder, type IntermediatesOptions } from '../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A loss touching every channel of every map: sum(map_k ⊙ w_k). */
function weightedSum(weights: tf.Tensor[]): Segment {
  return (maps) => [tf.addN(maps.map((m, k) => tf.sum(tf.mul(m, weights[k]))))];
}

describe('VisionTransformer.forwardIntermediatesSegments with checkpointedGradients', () => {
  // DINOv3's layout (class + register tokens, RoPE, LayerScale, final norm on the read-outs) and the
  // read-outs out of order with a repeat and not ending at the last block (blocks after it never run).
  const cases: [string, IntermediatesOptions][] = [
    ['the default read-outs', {}],
    ['read-outs [2, 0, 2] without norm', { layers: [2, 0, 2], norm: false }],
  ];
  for (const [what, options] of cases) {
    it(`${what}: same maps, and the gradients of every parameter and the image equal those of forwardIntermediates`, async () => {
      manualSeed(7);
      const vit = createEncoder('dinov3_vits16', {
        embedDim: 32,
        depth: 4,
        numHeads: 2,
        numRegisters: 2,
        outLayers: [0, 1, 2, 3],
      });
      const image = seededUniform([1, 40, 56, 3], 3, 0, 1);
      const count = (options.layers ?? vit.outLayers).length;
      const weights = Array.from({ length: count }, (_, k) => seededUniform([1, 2, 3, 32], 10 + k));
      const loss = weightedSum(weights);
      // Read-outs [2, 0, 2] without norm use neither block 3 nor the final norm.
      const unused = options.layers ? /^(blocks\.3|norm)\./ : null;
      const used = vit.namedParameters().filter(([n]) => !unused?.test(n));
      expect(used.length).toBeGreaterThan(20);
      const xs = [...used.map(([, v]) => v), image];

      const plainMaps = vit.forwardIntermediates(image as tf.Tensor4D, options);
      const want = tf
        .engine()
        .gradients(() => loss(vit.forwardIntermediates(image as tf.Tensor4D, options))[0] as tf.Scalar, xs);
      const got = await expectNoLeaks(() => {
        const { inputs, segments } = vit.forwardIntermediatesSegments(image as tf.Tensor4D, options);
        expect(segments).toHaveLength(1 + 1 + Math.max(...(options.layers ?? vit.outLayers)));
        // The segments alone give the same maps.
        const maps = tf.tidy(() => segments.reduce((state: tf.Tensor[], s) => s(state), inputs));
        return { maps, ...checkpointedGradients([...segments, loss], inputs, xs) };
      });
      expect(got.maps).toHaveLength(count);
      for (const [k, m] of got.maps.entries())
        expectClose(await m.data(), await plainMaps[k].data(), { atol: 1e-6 });
      expectClose(await got.value.data(), await want.value.data(), { atol: 1e-4, rtol: 1e-5 });
      for (const [i, g] of got.grads.entries()) {
        const name = i < used.length ? used[i][0] : 'image';
        expect(g, name).not.toBeNull();
        const scale = (await tf.max(tf.abs(want.grads[i])).data())[0];
        expectClose(await g!.data(), await want.grads[i].data(), { atol: 1e-5 * scale + 1e-7, rtol: 1e-4 });
      }
      tf.dispose([image, ...weights, ...plainMaps, ...got.maps, want.value, ...want.grads, got.value]);
      tf.dispose(got.grads as tf.Tensor[]);
      vit.dispose();
    });
  }
});
