import { seededUniform } from '@cvm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import type { CostVolumeIntrinsics } from '../src/index.js';

/** Deterministic pseudo-random numbers in [0, 1). */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return (s >>> 8) / 16777216;
  };
}

/** Rotation about a unit axis (Rodrigues) with translation t, as a nested 4×4. */
export function poseMatrix(axis: number[], degrees: number, t: number[]): number[][] {
  const n = Math.hypot(axis[0], axis[1], axis[2]);
  const [x, y, z] = axis.map((a) => a / n);
  const a = (degrees * Math.PI) / 180;
  const c = Math.cos(a);
  const s = Math.sin(a);
  const C = 1 - c;
  return [
    [c + x * x * C, x * y * C - z * s, x * z * C + y * s, t[0]],
    [y * x * C + z * s, c + y * y * C, y * z * C - x * s, t[1]],
    [z * x * C - y * s, z * y * C + x * s, c + z * z * C, t[2]],
    [0, 0, 0, 1],
  ];
}

/** A handheld-like relative pose: a few degrees of rotation, up to ~0.3 of translation. */
export function randomPose(r: () => number): number[][] {
  const axis = [r() - 0.5, r() - 0.5, r() - 0.5];
  return poseMatrix(axis, (r() - 0.5) * 16, [(r() - 0.5) * 0.6, (r() - 0.5) * 0.3, (r() - 0.5) * 0.2]);
}

/** Pinhole intrinsics for a W×H map with a modest focal length (so that disparities are a few px). */
export function randomIntrinsics(r: () => number, height: number, width: number): number[][] {
  return [
    [5 + 3 * r(), (r() - 0.5) * 0.2, (width - 1) / 2 + (r() - 0.5)],
    [0, 5 + 3 * r(), (height - 1) / 2 + (r() - 0.5)],
    [0, 0, 1],
  ];
}

export interface Scenario {
  name: string;
  shape: [number, number, number, number];
  neighbours: number;
  /** Camera data per batch item, for the plain reference: `kRef[b]`, `kNbr[i][b]`, `poses[i][b]`. */
  kRef: number[][][];
  kNbr: number[][][][];
  poses: number[][][][];
  inverseDepths: number[][];
  /** The same cameras in the forms the op accepts (batched or not, shared or per view, tensors or arrays). */
  options: () => { intrinsics: CostVolumeIntrinsics; poses: Array<tf.Tensor | number[][] | number[][][]>; inverseDepths: tf.Tensor | number[] | number[][] };
}

function candidates(near: number, far: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => 1 / far + (count === 1 ? 0 : i / (count - 1)) * (1 / near - 1 / far));
}

/** The three camera layouts the tests run: shared/unbatched, shared/batched, per-view/mixed. */
export function scenarios(height = 6, width = 8, channels = 5, depths = 6): Scenario[] {
  const r = rng(12345);
  const list: Scenario[] = [];
  {
    const k = randomIntrinsics(r, height, width);
    const p = randomPose(r);
    const inv = candidates(0.5, 10, depths);
    list.push({
      name: '1 neighbour, shared unbatched K and pose, [L] depths',
      shape: [1, height, width, channels],
      neighbours: 1,
      kRef: [k],
      kNbr: [[k]],
      poses: [[p]],
      inverseDepths: [inv],
      options: () => ({ intrinsics: k, poses: [p], inverseDepths: inv }),
    });
  }
  {
    const B = 2;
    const k = [0, 1].map(() => randomIntrinsics(r, height, width));
    const p = [0, 1].map(() => [0, 1].map(() => randomPose(r)));
    const inv = [candidates(0.5, 10, depths), candidates(0.3, 4, depths)];
    list.push({
      name: '2 neighbours, shared batched K and poses (tensors), [B,L] depths',
      shape: [B, height, width, channels],
      neighbours: 2,
      kRef: k,
      kNbr: [k, k],
      poses: p,
      inverseDepths: inv,
      options: () => ({
        intrinsics: tf.tensor3d(k),
        poses: p.map((pi) => tf.tensor3d(pi)),
        inverseDepths: tf.tensor2d(inv),
      }),
    });
  }
  {
    const B = 2;
    const kRef = randomIntrinsics(r, height, width);
    const kN = [randomIntrinsics(r, height, width), [0, 1].map(() => randomIntrinsics(r, height, width)), randomIntrinsics(r, height, width)];
    const p = [randomPose(r), [0, 1].map(() => randomPose(r)), randomPose(r)];
    const inv = candidates(0.4, 8, depths);
    const perBatch = <T>(m: T | T[], batched: boolean): T[] => (batched ? (m as T[]) : [m as T, m as T]);
    list.push({
      name: '3 neighbours, per-view intrinsics, mixed batched/unbatched cameras',
      shape: [B, height, width, channels],
      neighbours: 3,
      kRef: [kRef, kRef],
      kNbr: kN.map((k, i) => perBatch(k as number[][] | number[][][], i === 1) as number[][][]),
      poses: p.map((q, i) => perBatch(q as number[][] | number[][][], i === 1) as number[][][]),
      inverseDepths: [inv, inv],
      options: () => ({
        intrinsics: { reference: kRef, neighbours: [kN[0] as number[][], tf.tensor3d(kN[1] as number[][][]), kN[2] as number[][]] },
        poses: [p[0] as number[][], p[1] as number[][][], tf.tensor2d(p[2] as number[][])],
        inverseDepths: tf.tensor1d(inv),
      }),
    });
  }
  return list;
}

/** Random `[B,H,W,C]` features for the reference and each neighbour. */
export function scenarioFeatures(s: Scenario, seed: number): { reference: tf.Tensor4D; neighbours: tf.Tensor4D[] } {
  return {
    reference: seededUniform(s.shape, seed) as tf.Tensor4D,
    neighbours: Array.from({ length: s.neighbours }, (_, i) => seededUniform(s.shape, seed + 101 * (i + 1)) as tf.Tensor4D),
  };
}

/** Disposes every tensor among the op options. */
export function disposeOptions(o: ReturnType<Scenario['options']>): void {
  const ts: tf.Tensor[] = [];
  const visit = (v: unknown) => {
    if (v instanceof tf.Tensor) ts.push(v);
    else if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === 'object') Object.values(v).forEach(visit);
  };
  visit(o);
  tf.dispose(ts);
}
