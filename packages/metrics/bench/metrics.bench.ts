/**
 * `pnpm --filter @cvm/metrics bench [--json] [--runs N] [--thresholds K]`
 *
 * Per-image time of every evaluator at NYUD's 448×576, on synthetic but realistic maps: 40-class labels with
 * noisy predictions, depth with 0.3 m noise, normals with noise, and a soft edge map (a blurred, slightly
 * shifted copy of a ~8k-pixel GT boundary map plus noise). The boundary evaluator is timed with and without
 * SAK's NMS, with 99 thresholds (the protocol) and with fewer.
 */
import {
  BoundaryEvaluator,
  CrossTaskConsistencyEvaluator,
  DepthEvaluator,
  NormalsEvaluator,
  SaliencyEvaluator,
  SegmentationEvaluator,
} from '../src/index.js';
import { benchArgs, medianSeconds } from '@cvm/test-utils/bench';

const { option, json } = benchArgs();
const runs = Number(option('runs', '3'));
const H = 448;
const W = 576;
const N = H * W;

let seed = 7;
const rand = () => {
  seed = (seed * 1664525 + 1013904223) >>> 0;
  return seed / 2 ** 32;
};
const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());

// Semantic labels: blocky regions; prediction = GT with 30% noise; 5% void.
const segGt = new Int32Array(N);
const segPred = new Int32Array(N);
for (let i = 0; i < N; i++) {
  const y = (i / W) | 0;
  const x = i % W;
  segGt[i] = rand() < 0.05 ? 255 : ((y >> 5) * 7 + (x >> 6)) % 40;
  segPred[i] = rand() < 0.3 ? Math.floor(rand() * 40) : segGt[i] === 255 ? 0 : segGt[i];
}
const depthGt = Float32Array.from({ length: N }, (_, i) => (rand() < 0.1 ? 0 : 1 + 4 * ((i % W) / W)));
const depthPred = depthGt.map((d) => d + 0.3 * gauss());
const nGt = new Float32Array(3 * N);
const nPred = new Float32Array(3 * N);
for (let i = 0; i < N; i++) {
  const v = [gauss() * 0.3, gauss() * 0.3, -1];
  const l = Math.hypot(...v);
  nGt.set(rand() < 0.05 ? [255, 255, 255] : v.map((c) => c / l), 3 * i);
  nPred.set([v[0] + 0.2 * gauss(), v[1] + 0.2 * gauss(), v[2]], 3 * i);
}
const salGt = Int32Array.from(segGt, (v) => (v === 255 ? 255 : v < 10 ? 1 : 0));
const salPred = Float32Array.from(salGt, (v) =>
  Math.min(1, Math.max(0, (v === 1 ? 0.7 : 0.2) + 0.2 * gauss())),
);
// Boundary GT: label changes of a region map (seg2bmap-like), ~1-2% of the pixels.
const edgeGt = new Uint8Array(N);
for (let y = 0; y < H - 1; y++) {
  for (let x = 0; x < W - 1; x++) {
    const i = y * W + x;
    const a = ((y >> 5) * 7 + (x >> 6)) % 40;
    const b = (((y + 1) >> 5) * 7 + ((x + 1) >> 6)) % 40;
    if (a !== b || (x * 3 + y * 2) % 97 === 0) edgeGt[i] = 1;
  }
}
// Soft prediction: Gaussian ridge around the GT shifted by (1, 2), amplitude 0.9, plus noise.
const edgePred = new Float32Array(N);
for (let y = 0; y < H; y++) {
  for (let x = 0; x < W; x++) {
    let best = 99;
    for (let dy = -4; dy <= 4; dy++) {
      for (let dx = -4; dx <= 4; dx++) {
        const yy = y + dy + 2;
        const xx = x + dx + 1;
        if (yy >= 0 && yy < H && xx >= 0 && xx < W && edgeGt[yy * W + xx])
          best = Math.min(best, dy * dy + dx * dx);
      }
    }
    edgePred[y * W + x] = Math.min(1, Math.max(0, 0.9 * Math.exp(-best / 4) + 0.08 * gauss()));
  }
}
let gtPixels = 0;
for (const v of edgeGt) gtPixels += v;

/** Median milliseconds of `runs` calls after a warm-up. */
const time = async (fn: () => void) => 1000 * (await medianSeconds(async () => fn(), runs));
const timeAsync = async (fn: () => Promise<void>) => 1000 * (await medianSeconds(fn, runs));

const rows: { evaluator: string; ms: number; note: string }[] = [];
const sh = (data: ArrayLike<number>, c?: number) => ({ data, shape: c ? [1, H, W, c] : [1, H, W] });

rows.push({
  evaluator: 'semseg (40 classes)',
  ms: await time(() => new SegmentationEvaluator({ numClasses: 40 }).updateSync(sh(segPred), sh(segGt))),
  note: 'confusion matrix',
});
rows.push({
  evaluator: 'depth',
  ms: await time(() => new DepthEvaluator().updateSync(sh(depthPred), sh(depthGt))),
  note: '',
});
rows.push({
  evaluator: 'normals',
  ms: await time(() => new NormalsEvaluator().updateSync(sh(nPred, 3), sh(nGt, 3))),
  note: '',
});
rows.push({
  evaluator: 'saliency (19 thresholds)',
  ms: await time(() => new SaliencyEvaluator().updateSync(sh(salPred), sh(salGt))),
  note: 'PASCAL task, same size',
});
rows.push({
  evaluator: 'consistency (depth→normals)',
  ms: await timeAsync(() =>
    new CrossTaskConsistencyEvaluator().update({
      depth: sh(depthPred),
      normals: sh(nPred, 3),
      intrinsics: { fx: 518.8, fy: 518.8, cx: 287.5, cy: 223.5 },
    }),
  ),
  note: '',
});
let odsF = 0;
for (const [thresholds, nms] of [
  [99, true],
  [99, false],
  [Number(option('thresholds', '25')), true],
] as const) {
  rows.push({
    evaluator: `boundary odsF (${thresholds} thr, ${nms ? 'NMS' : 'no NMS'})`,
    ms: await time(() => {
      const ev = new BoundaryEvaluator({ dataset: 'nyud', thresholds, nms });
      ev.updateSync(sh(edgePred), sh(edgeGt));
      odsF = ev.result().odsF;
    }),
    note: `maxDist 0.011 (r = 8.0 px), ${gtPixels} GT px, odsF ${odsF.toFixed(3)}`,
  });
}

if (json) {
  console.log(JSON.stringify({ size: [H, W], runs, rows }, null, 2));
} else {
  console.log(`@cvm/metrics, one ${H}×${W} image, median of ${runs} runs (Node ${process.version})`);
  for (const r of rows) console.log(`${r.evaluator.padEnd(34)} ${r.ms.toFixed(1).padStart(8)} ms  ${r.note}`);
}
