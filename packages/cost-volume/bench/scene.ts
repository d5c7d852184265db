import { inverseDepthCandidatesData, planeSweepProjection, relativePose } from '@cvm/geometry';
import * as tf from '@tensorflow/tfjs-core';

/**
 * The paper's setting for benchmarks: 2 views at 1/8 of 448×576 (56×72), C = 128, L = 128 over the
 * indoor range 0.5–10 m, fx ≈ 65 px, a handheld baseline (0.2 m, a few degrees of rotation).
 */
export const PAPER = { height: 56, width: 72, channels: 128, depths: 128, near: 0.5, far: 10 };

export const INTRINSICS = [
  [65, 0, 35.5],
  [0, 65, 27.5],
  [0, 0, 1],
];

function rotationY(deg: number, t: [number, number, number]): number[][] {
  const a = (deg * Math.PI) / 180;
  return [
    [Math.cos(a), 0, Math.sin(a), t[0]],
    [0, 1, 0, t[1]],
    [-Math.sin(a), 0, Math.cos(a), t[2]],
    [0, 0, 0, 1],
  ];
}

/** Camera-to-world poses of the two views. */
export const CAMERAS = [rotationY(0, [0, 0, 0]), rotationY(3, [0.2, 0.03, 0.05])];

/** The two ordered pairs' `[12]` projections (view 0 → 1, view 1 → 0) and the candidates. */
export function paperScene(): { projections: Float32Array[]; inverseDepths: Float32Array } {
  const projections = [
    [0, 1],
    [1, 0],
  ].map(([r, n]) => {
    const pose = relativePose(CAMERAS[r], CAMERAS[n]);
    const p = planeSweepProjection(INTRINSICS, pose, 1).data;
    pose.dispose();
    return p;
  });
  const inverseDepths = Float32Array.from(inverseDepthCandidatesData(PAPER.near, PAPER.far, PAPER.depths));
  return { projections, inverseDepths };
}

/** Random features `[1,H,W,C]` with a little spatial smoothness, seeded. */
export function features(seed: number): Float32Array {
  const { height, width, channels } = PAPER;
  const out = new Float32Array(height * width * channels);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < out.length; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = (s >>> 8) / 16777216 - 0.5;
  }
  return out;
}

export { tf };
