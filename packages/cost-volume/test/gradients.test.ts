import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { planeSweepProjection } from '@cvm/geometry';
import { expectClose, expectNoLeaks, finiteDifferenceGradient, seededUniform } from '@cvm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { COST_VOLUME, type CostVolumeImplementation, costVolume } from '../src/index.js';
import { disposeOptions, rng, scenarioFeatures, scenarios } from './scenarios.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
  tf.env().set('IS_TEST', true);
});

/** A spread of element indices of a tensor of `n` elements (the full FD check would be slow). */
function sampleIndices(n: number, count: number, seed: number): number[] {
  const r = rng(seed);
  return Array.from({ length: count }, () => Math.floor(r() * n));
}

describe('costVolume gradients match finite differences', () => {
  // Scenario 2: two neighbours, batched cameras; scenario 3: three, per-view intrinsics.
  for (const s of scenarios(5, 6, 4, 5).slice(1)) {
    for (const implementation of ['fused', 'composite'] as CostVolumeImplementation[]) {
      it(`${implementation}: ${s.name}`, async () => {
        const { reference, neighbours } = scenarioFeatures(s, 9);
        const options = { ...s.options(), implementation, chunkSize: 2 };
        const [B, H, W] = s.shape;
        const weights = seededUniform([B, H, W, 5], 77);
        const inputs = [reference, ...neighbours];
        const volumeWith = (which: number) => (x: tf.Tensor) => {
          const xs = inputs.map((t, i) => (i === which ? x : t)) as tf.Tensor4D[];
          return costVolume(xs[0], xs.slice(1), options);
        };
        const analytic = tf.grads((...xs: tf.Tensor[]) =>
          tf.sum(tf.mul(costVolume(xs[0] as tf.Tensor4D, xs.slice(1) as tf.Tensor4D[], options), weights)),
        )(inputs);
        for (let which = 0; which < inputs.length; which++) {
          const indices = sampleIndices(
            inputs[which].size,
            implementation === 'fused' ? 40 : 16,
            1000 + which,
          );
          const numeric = await finiteDifferenceGradient(
            volumeWith(which),
            inputs[which],
            weights,
            1e-2,
            indices,
          );
          const a = (await analytic[which].data()) as Float32Array;
          const picked = indices.map((i) => a[i]);
          expect(picked.some((v) => Math.abs(v) > 1e-3)).toBe(true);
          expectClose(
            picked,
            indices.map((i) => numeric[i]),
            { atol: 2e-3 },
          );
        }
        tf.dispose([...inputs, weights, ...analytic]);
        disposeOptions(options);
      });
    }
  }

  it('fused and composite agree inside a larger graph (ops before and after, two cost volumes)', async () => {
    const s = scenarios(5, 6, 4, 5)[2];
    const { reference, neighbours } = scenarioFeatures(s, 21);
    const options = s.options();
    const gradsWith = (implementation: CostVolumeImplementation) =>
      tf.grads((...xs: tf.Tensor[]) => {
        const feats = xs.map((x) => tf.tanh(tf.mul(x, 1.5))) as tf.Tensor4D[];
        const a = costVolume(feats[0], feats.slice(1), { ...options, implementation, chunkSize: 2 });
        // The second volume swaps the roles, so the outer tape holds several cost-volume nodes.
        const b = costVolume(feats[1], [feats[0]], {
          ...options,
          intrinsics: s.kRef[0],
          poses: [s.poses[0][0]],
          implementation,
        });
        return tf.add(tf.sum(tf.square(a)), tf.sum(tf.mul(b, tf.mean(feats[0], -1, true))));
      })([reference, ...neighbours]);
    const fused = gradsWith('fused');
    const compositeGrads = gradsWith('composite');
    for (let i = 0; i < fused.length; i++)
      expectClose(await compositeGrads[i].data(), await fused[i].data(), { atol: 2e-5 });
    tf.dispose([reference, ...neighbours, ...fused, ...compositeGrads]);
    disposeOptions(options);
  });

  it('the registered gradient gives zeros for projection and inverseDepths', async () => {
    const ref = seededUniform([1, 4, 5, 3], 1);
    const nbr = seededUniform([1, 4, 5, 3], 2);
    const K = [
      [4, 0, 2],
      [0, 4, 1.5],
      [0, 0, 1],
    ];
    const pose = [
      [1, 0, 0, 0.2],
      [0, 1, 0, 0],
      [0, 0, 1, 0],
      [0, 0, 0, 1],
    ];
    const proj = tf.tensor2d(planeSweepProjection(K, pose, 1).data, [1, 12]);
    const inv = tf.tensor2d([[0.5, 1, 2]]);
    const grads = tf.grads((r, n, p, d) =>
      tf.sum(
        tf.engine().runKernel(COST_VOLUME, {
          reference: r,
          neighbour: n,
          projection: p,
          inverseDepths: d,
        }) as tf.Tensor,
      ),
    )([ref, nbr, proj, inv]);
    expect(Array.from(await grads[2].data()).every((v) => v === 0)).toBe(true);
    expect(Array.from(await grads[3].data()).every((v) => v === 0)).toBe(true);
    expect(Array.from(await grads[0].data()).some((v) => v !== 0)).toBe(true);
    expect(grads[2].shape).toEqual([1, 12]);
    tf.dispose([ref, nbr, proj, inv, ...grads]);
  });
});

describe('costVolume leaks no tensors', () => {
  for (const implementation of ['fused', 'composite'] as CostVolumeImplementation[]) {
    for (const s of scenarios(4, 5, 3, 5).slice(0, 2)) {
      it(`${implementation}: forward and backward (${s.name})`, async () => {
        const { reference, neighbours } = scenarioFeatures(s, 3);
        const options = s.options();
        await expectNoLeaks(() => {
          tf.dispose(costVolume(reference, neighbours, { ...options, implementation, chunkSize: 2 }));
        });
        await expectNoLeaks(() => {
          const grads = tf.grads((...xs: tf.Tensor[]) =>
            tf.sum(
              costVolume(xs[0] as tf.Tensor4D, xs.slice(1) as tf.Tensor4D[], {
                ...options,
                implementation,
                chunkSize: 2,
              }),
            ),
          )([reference, ...neighbours]);
          tf.dispose(grads);
        });
        // Through an optimizer step with variables (variableGrads).
        const v = tf.variable(reference);
        await expectNoLeaks(() => {
          const { value, grads } = tf.variableGrads(() =>
            tf.sum(
              tf.square(
                costVolume(v as tf.Tensor4D, neighbours, { ...options, implementation, chunkSize: 2 }),
              ),
            ),
          );
          tf.dispose([value, ...Object.values(grads)]);
        });
        // The engine is left usable: a later gradient is taken normally.
        const [dx] = tf.grads((x: tf.Tensor) => tf.sum(tf.square(x)))([reference]);
        expectClose(await dx.data(), await tf.mul(reference, 2).data(), { atol: 1e-6 });
        dx.dispose();
        tf.dispose([reference, ...neighbours, v]);
        disposeOptions(options);
      });
    }
  }
});

describe('costVolume composite memory', () => {
  it('forward+backward peak does not grow with L beyond the L-sized tensors (chunks are recomputed)', async () => {
    const [H, W, C, chunkSize] = [12, 14, 64, 2];
    const reference = seededUniform([1, H, W, C], 31) as tf.Tensor4D;
    const neighbour = seededUniform([1, H, W, C], 32) as tf.Tensor4D;
    const K = [
      [10, 0, 6.5],
      [0, 10, 5.5],
      [0, 0, 1],
    ];
    const pose = [
      [1, 0, 0, 0.1],
      [0, 1, 0, 0.02],
      [0, 0, 1, 0.05],
      [0, 0, 0, 1],
    ];
    const peak = async (count: number, chunk = chunkSize) => {
      const inverseDepths = Array.from({ length: count }, (_, i) => 0.1 + i * 0.2);
      const options = {
        intrinsics: K,
        poses: [pose],
        inverseDepths,
        implementation: 'composite' as const,
        chunkSize: chunk,
      };
      const info = await tf.profile(() =>
        tf.grads((r: tf.Tensor, n: tf.Tensor) => costVolume(r as tf.Tensor4D, [n as tf.Tensor4D], options))([
          reference,
          neighbour,
        ]),
      );
      return info.peakBytes;
    };
    const oneChunkOfSamples = chunkSize * H * W * C * 4;
    await peak(chunkSize); // warm-up: first-call allocations are not the op's
    const base = await peak(chunkSize);
    const growth = (await peak(8 * chunkSize)) - base;
    // Holding every chunk's samples would add at least 7 chunks (as one chunk of all L candidates does:
    // measured 24); the L-sized volumes, dy and their slices add about one.
    const unchunked = (await peak(8 * chunkSize, 8 * chunkSize)) - base;
    expect(unchunked).toBeGreaterThan(7 * oneChunkOfSamples);
    expect(growth).toBeLessThan(2 * oneChunkOfSamples); // measured: 1.2 chunks (~10 L-sized tensors)
    tf.dispose([reference, neighbour]);
  });
});
