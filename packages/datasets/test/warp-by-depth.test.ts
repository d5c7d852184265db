/**
 * Multi-view consistency of the synthetic world through @cvm/geometry's `warpByDepth` (the op training
 * code uses): a neighbour's RGB warped into the reference view with the reference depth and
 * T_nbr<-ref reproduces the reference RGB on pixels visible in both views.
 */
import '@tensorflow/tfjs-backend-cpu';
import { relativePose, warpByDepth } from '@cvm/geometry';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, expect, test } from 'vitest';
import { SyntheticWorld } from '../src/index.js';
import { maskedError, warpNeighbour } from './reproject.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const rows = (m: Float64Array, n: number) =>
  Array.from({ length: n }, (_, r) => Array.from(m.subarray(r * n, r * n + n)));

test('warpByDepth of a neighbour reproduces the reference on non-occluded pixels', () => {
  // Mean abs RGB error (RGB in [0,1]) over pixels visible in both views: < 0.025 on average and < 0.06
  // per pair, the bound the plain-JS reprojection test uses (bilinear sampling of sharp texture edges);
  // the plain-JS warp supplies the occlusion mask (it compares against the neighbour's depth).
  const world = new SyntheticWorld({ seed: 5, views: 3, labelsForAllViews: true });
  const errors: number[] = [];
  const wrong: number[] = [];
  for (let i = 0; i < 4; i++) {
    const s = world.sample('train', i);
    const { height: H, width: W } = s;
    const ref = s.views[0];
    for (let v = 1; v < s.views.length; v++) {
      const nbr = s.views[v];
      const visible = warpNeighbour(ref, nbr, ref.labels!.depth!, nbr.labels!.depth!, H, W).valid;
      const warp = (c2wNbr: Float64Array) =>
        tf.tidy(() => {
          const pose = relativePose(rows(ref.cameraToWorld, 4), rows(c2wNbr, 4));
          return warpByDepth(
            tf.tensor4d(nbr.rgb, [1, H, W, 3]),
            tf.tensor4d(ref.labels!.depth!, [1, H, W, 1]),
            pose,
            { reference: rows(ref.intrinsics, 3), neighbour: rows(nbr.intrinsics, 3) },
          );
        });
      const warped = warp(nbr.cameraToWorld);
      const { mae, coverage } = maskedError(warped.dataSync() as Float32Array, ref.rgb, visible);
      // Control: the same warp with the neighbour placed at the reference pose.
      const unwarped = warp(ref.cameraToWorld);
      wrong.push(maskedError(unwarped.dataSync() as Float32Array, ref.rgb, visible).mae);
      tf.dispose([warped, unwarped]);
      expect(coverage).toBeGreaterThan(0.3);
      expect(mae).toBeLessThan(0.06);
      errors.push(mae);
    }
  }
  const mean = errors.reduce((a, b) => a + b) / errors.length;
  expect(mean).toBeLessThan(0.025);
  expect(wrong.reduce((a, b) => a + b) / wrong.length).toBeGreaterThan(3 * mean);
});
