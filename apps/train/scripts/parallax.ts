/**
 * How much the synthetic clips' neighbours move relative to the reference, in pixels of the CvM's
 * cost volume (1/8 of the image): the parallax the cost volume can see at a training size.
 * `pnpm --filter train parallax [-- --size 64x96 --views 2 --scenes 64]`.
 */
import { parseArgs } from 'node:util';
import { SyntheticWorld } from '@cvm/datasets';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '64x96' },
    views: { type: 'string', default: '2' },
    scenes: { type: 'string', default: '64' },
    seed: { type: 'string', default: '0' },
  },
  args: process.argv.slice(2).filter((a, i) => !(i === 0 && a === '--')),
});
const [height, width] = (values.size as string).split('x').map(Number);
const views = Number(values.views);
const scenes = Number(values.scenes);
const world = new SyntheticWorld({ seed: Number(values.seed), height, width, views, trainScenes: scenes });

/** Pixel displacement of reference pixel (x, y) at depth z in a neighbour: |π(K·T_nbr←ref·z·K⁻¹p) − p|. */
function displacement(
  K: Float64Array,
  refC2w: Float64Array,
  nbrC2w: Float64Array,
  x: number,
  y: number,
  z: number,
): number {
  const [fx, , cx, , fy, cy] = K;
  const pc = [((x - cx) / fx) * z, ((y - cy) / fy) * z, z];
  const pw = [0, 1, 2].map(
    (i) => refC2w[i * 4] * pc[0] + refC2w[i * 4 + 1] * pc[1] + refC2w[i * 4 + 2] * pc[2] + refC2w[i * 4 + 3],
  );
  const d = [0, 1, 2].map((i) => pw[i] - nbrC2w[i * 4 + 3]);
  // world → neighbour camera: Rᵀ·d
  const pn = [0, 1, 2].map((j) => nbrC2w[j] * d[0] + nbrC2w[4 + j] * d[1] + nbrC2w[8 + j] * d[2]);
  const u = (fx * pn[0]) / pn[2] + cx;
  const v = (fy * pn[1]) / pn[2] + cy;
  return Math.hypot(u - x, v - y);
}

const flows: number[] = [];
const parallax: number[] = [];
const baselines: number[] = [];
for (let s = 0; s < scenes; s++) {
  const sample = world.sample('train', s);
  const ref = sample.views[0];
  const depth = ref.labels?.depth as Float32Array;
  for (const nbr of sample.views.slice(1)) {
    baselines.push(
      Math.hypot(
        nbr.cameraToWorld[3] - ref.cameraToWorld[3],
        nbr.cameraToWorld[7] - ref.cameraToWorld[7],
        nbr.cameraToWorld[11] - ref.cameraToWorld[11],
      ),
    );
    for (let y = 4; y < height; y += 8)
      for (let x = 4; x < width; x += 8) {
        const z = depth[y * width + x];
        if (!(z > 0)) continue;
        const at = displacement(ref.intrinsics, ref.cameraToWorld, nbr.cameraToWorld, x, y, z);
        // Parallax: how much the displacement changes between the pixel's depth and twice as far, the
        // signal a plane sweep separates depths by.
        const far = displacement(ref.intrinsics, ref.cameraToWorld, nbr.cameraToWorld, x, y, 2 * z);
        flows.push(at / 8);
        parallax.push(Math.abs(at - far) / 8);
      }
  }
}
const q = (a: number[], p: number) => [...a].sort((m, n) => m - n)[Math.floor(p * (a.length - 1))];
const fmt = (a: number[]) =>
  `median ${q(a, 0.5).toFixed(2)}, p10 ${q(a, 0.1).toFixed(2)}, p90 ${q(a, 0.9).toFixed(2)}`;
console.log(`${scenes} scenes at ${height}x${width}, ${views} views; camera baseline (m): ${fmt(baselines)}`);
console.log(`displacement of a reference pixel in a neighbour, in cost-volume pixels (1/8): ${fmt(flows)}`);
console.log(`parallax between depth z and 2z, in cost-volume pixels: ${fmt(parallax)}`);
