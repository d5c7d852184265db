import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { checkpointedGradients, manualSeed, type Segment } from '@cvm/nn';
import { expectClose, expectNoLeaks, seededUniform } from '@cvm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { CrossViewModule } from '../src/index.js';
import { K64x96, POSES, TINY_CONFIG } from './helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A loss touching every output channel: sum(out_v ⊙ w_v) over views. */
function weightedSum(weights: tf.Tensor[]): Segment {
  return (outs) => [tf.addN(outs.map((o, v) => tf.sum(tf.mul(o, weights[v]))))];
}

describe('CrossViewModule.forwardSegments with checkpointedGradients', () => {
  // 40×52 is padded to 48×64 and cropped back: every piece of the forward pass is crossed.
  for (const views of [2, 1]) {
    it(`${views} view(s): the gradients of every parameter and image equal those of forward`, async () => {
      manualSeed(10 + views);
      const m = new CrossViewModule(TINY_CONFIG);
      const ims = Array.from({ length: views }, (_, v) => seededUniform([1, 40, 52, 3], 20 + v, 0, 1));
      const cams = { intrinsics: ims.map(() => K64x96), cameraToWorld: POSES.slice(0, views) };
      const weights = ims.map((_, v) => seededUniform([1, 20, 26, m.outChannels], 30 + v));
      const params = m.parameters();
      const xs = [...params, ...ims];
      const loss = weightedSum(weights);

      const want = tf.engine().gradients(() => loss(m.forward(ims, cams))[0] as tf.Scalar, xs);
      const got = await expectNoLeaks(() => {
        const { inputs, segments } = m.forwardSegments(ims, cams);
        expect(segments).toHaveLength(
          7 * views + (views > 1 ? 1 : 0) + 2 * TINY_CONFIG.numLayers! + 2 + views,
        );
        return checkpointedGradients([...segments, loss], inputs, xs);
      });
      expectClose(await got.value.data(), await want.value.data(), { atol: 1e-4, rtol: 1e-5 });
      const scales = await Promise.all(want.grads.map(async (g) => (await tf.max(tf.abs(g)).data())[0]));
      // The downsample convs' biases feed an InstanceNorm, which removes them: their gradient is 0 in
      // exact arithmetic and float noise here, so the floor of the tolerance follows the largest gradient.
      const floor = 1e-7 * Math.max(...scales);
      for (const [i, g] of got.grads.entries()) {
        const name = i < params.length ? m.namedParameters()[i][0] : `images[${i - params.length}]`;
        expect(g, name).not.toBeNull();
        const atol = Math.max(1e-5 * scales[i], floor);
        expectClose(await g!.data(), await want.grads[i].data(), { atol, rtol: 1e-4 });
      }
      tf.dispose([...ims, ...weights, want.value, ...want.grads, got.value, ...(got.grads as tf.Tensor[])]);
      m.dispose();
    });
  }
});
