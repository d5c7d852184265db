/**
 * How much the synthetic clips' neighbours move relative to the reference, in pixels of the CvM's
 * cost volume (1/8 of the image): the parallax the cost volume can see at a training size. With
 * `--baseline-scale s` the neighbours' cameras are moved s times as far from the reference (as
 * `--baseline-scale` does in training); the overlap lines say whether the neighbours still see the
 * reference's scene: the share of reference pixels that land inside a neighbour, and the share whose
 * surface the neighbour actually sees there (its rendered depth agrees within 5%: not occluded, and the
 * camera not outside the room), and how many neighbours stopped at a wall short of s times their baseline.
 * The depth line gives percentiles of every reference pixel's depth: what `--depth-range` should cover.
 * `pnpm --filter train parallax [-- --size 64x96 --views 2 --scenes 64 --split train --baseline-scale 1]`.
 */
import { parseArgs } from 'node:util';
import { SyntheticWorld } from '@cvm/datasets';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '64x96' },
    views: { type: 'string', default: '2' },
    scenes: { type: 'string', default: '64' },
    seed: { type: 'string', default: '0' },
    split: { type: 'string', default: 'train' },
    'baseline-scale': { type: 'string', default: '1' },
  },
  args: process.argv.slice(2).filter((a, i) => !(i === 0 && a === '--')),
});
const [height, width] = (values.size as string).split('x').map(Number);
const views = Number(values.views);
const scenes = Number(values.scenes);
const baselineScale = Number(values['baseline-scale']);
if (!(baselineScale > 0) || !Number.isFinite(baselineScale))
  throw new Error(`--baseline-scale: expected a positive number, got '${values['baseline-scale']}'`);
const split = values.split as string;
if (split !== 'train' && split !== 'val') throw new Error(`--split: expected train or val, got '${split}'`);
const world = new SyntheticWorld({
  seed: Number(values.seed),
  height,
  width,
  views,
  trainScenes: scenes,
  valScenes: scenes,
  labelsForAllViews: true,
});

/** Reference pixel (x, y) at depth z seen from the neighbour: its pixel (u, v) and z-depth there. */
function project(
  K: Float64Array,
  refC2w: Float64Array,
  nbrC2w: Float64Array,
  x: number,
  y: number,
  z: number,
): { u: number; v: number; depth: number } {
  const [fx, , cx, , fy, cy] = K;
  const pc = [((x - cx) / fx) * z, ((y - cy) / fy) * z, z];
  const pw = [0, 1, 2].map(
    (i) => refC2w[i * 4] * pc[0] + refC2w[i * 4 + 1] * pc[1] + refC2w[i * 4 + 2] * pc[2] + refC2w[i * 4 + 3],
  );
  const d = [0, 1, 2].map((i) => pw[i] - nbrC2w[i * 4 + 3]);
  // world → neighbour camera: Rᵀ·d
  const pn = [0, 1, 2].map((j) => nbrC2w[j] * d[0] + nbrC2w[4 + j] * d[1] + nbrC2w[8 + j] * d[2]);
  return { u: (fx * pn[0]) / pn[2] + cx, v: (fy * pn[1]) / pn[2] + cy, depth: pn[2] };
}

const flows: number[] = [];
const parallax: number[] = [];
const baselines: number[] = [];
const depths: number[] = [];
let stopped = 0;
let points = 0;
let inside = 0;
let seen = 0;
for (let s = 0; s < scenes; s++) {
  const sample = world.sample(split, s, { baselineScale });
  const { clip } = world.scene(split, s);
  const offsets = world.viewOffsets(split, s);
  const ref = sample.views[0];
  const c0 = [ref.cameraToWorld[3], ref.cameraToWorld[7], ref.cameraToWorld[11]];
  const depth = ref.labels?.depth as Float32Array;
  for (const z of depth) if (z > 0) depths.push(z);
  for (const [v, nbr] of sample.views.entries()) {
    if (v === 0) continue;
    const c = [nbr.cameraToWorld[3], nbr.cameraToWorld[7], nbr.cameraToWorld[11]];
    const baseline = Math.hypot(c[0] - c0[0], c[1] - c0[1], c[2] - c0[2]);
    baselines.push(baseline);
    // The clip's own centre (scale 1): the world stops a moved centre at a wall.
    const own = clip[(clip.length >> 1) + offsets[v]].position;
    const ownBaseline = Math.hypot(own[0] - c0[0], own[1] - c0[1], own[2] - c0[2]);
    if (baseline < baselineScale * ownBaseline * (1 - 1e-9)) stopped++;
    const nbrDepth = nbr.labels?.depth as Float32Array;
    for (let y = 4; y < height; y += 8)
      for (let x = 4; x < width; x += 8) {
        const z = depth[y * width + x];
        if (!(z > 0)) continue;
        const at = project(ref.intrinsics, ref.cameraToWorld, nbr.cameraToWorld, x, y, z);
        const shift = Math.hypot(at.u - x, at.v - y);
        // Parallax: how much the displacement changes between the pixel's depth and twice as far, the
        // signal a plane sweep separates depths by.
        const far = project(ref.intrinsics, ref.cameraToWorld, nbr.cameraToWorld, x, y, 2 * z);
        flows.push(shift / 8);
        parallax.push(Math.hypot(at.u - far.u, at.v - far.v) / 8);
        points++;
        const [u, v] = [Math.round(at.u), Math.round(at.v)];
        if (at.depth > 0 && u >= 0 && u < width && v >= 0 && v < height) {
          inside++;
          if (Math.abs(nbrDepth[v * width + u] - at.depth) < 0.05 * at.depth) seen++;
        }
      }
  }
}
const q = (a: number[], p: number) => [...a].sort((m, n) => m - n)[Math.floor(p * (a.length - 1))];
const fmt = (a: number[]) =>
  `median ${q(a, 0.5).toFixed(2)}, p10 ${q(a, 0.1).toFixed(2)}, p90 ${q(a, 0.9).toFixed(2)}`;
const pct = (n: number) => `${((100 * n) / points).toFixed(0)}%`;
console.log(
  `${scenes} ${split} scenes at ${height}x${width}, ${views} views, baseline scale ${baselineScale}; camera baseline (m): ${fmt(baselines)}`,
);
console.log(
  `reference depth (m), every pixel: ${[0.005, 0.01, 0.1, 0.5, 0.9, 0.99, 0.995].map((p) => `p${100 * p} ${q(depths, p).toFixed(2)}`).join(', ')}; min ${q(depths, 0).toFixed(2)}, max ${q(depths, 1).toFixed(2)}`,
);
console.log(`displacement of a reference pixel in a neighbour, in cost-volume pixels (1/8): ${fmt(flows)}`);
console.log(`parallax between depth z and 2z, in cost-volume pixels: ${fmt(parallax)}`);
console.log(
  `overlap: ${pct(inside)} of reference pixels land inside a neighbour, ${pct(seen)} on the surface the neighbour sees there; ${stopped}/${baselines.length} neighbours stopped at a wall short of ${baselineScale}× their baseline`,
);
