import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { selectBackend } from '@cvm/backend';
import { SyntheticWorld } from '@cvm/datasets';
import { createEncoder } from '@cvm/encoders';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type CvmVariant,
  datasetTasks,
  type FusionResolution,
  MultiTaskModel,
  type StepReport,
  type TaskName,
  Trainer,
} from '../src/index.js';
import { bilinearFloor, type FloorEstimate } from './bilinear-floor.js';

// CI runs a short schedule per mode (every task's loss falls, no leaks); OVERFIT_STEPS=300 runs the long
// one whose figures the README quotes, and checks the total against the floor of the head's resolution:
// the heads predict at 1/4 (OVERFIT_FUSION=half: 1/2) and upsample bilinearly, so no weights can fit
// the 1–2-pixel edge band and the normals at object borders exactly (`bilinearFloor`). OVERFIT_MODES=full,none
// restricts the modes. On the wasm backend (XNNPACK on the CPU; the cpu backend gives the same losses, 3× slower).
const STEPS = Number(process.env.OVERFIT_STEPS ?? 25);
const LONG = STEPS >= 200;
const FUSION = (process.env.OVERFIT_FUSION ?? 'quarter') as FusionResolution;
const H = 32;
const W = 32;
const TASK_NAMES: TaskName[] = ['semseg', 'depth', 'normals', 'edge'];
const TASKS = datasetTasks('nyud', TASK_NAMES);

/** One 2-view batch (B = 1) of the synthetic world, as tensors; labels of the reference view. */
function syntheticBatch() {
  const sample = new SyntheticWorld({
    seed: 3,
    height: H,
    width: W,
    views: 2,
    trainScenes: 1,
    valScenes: 0,
  }).sample('train', 0);
  const images = sample.views.map((v) => tf.tensor4d(v.rgb, [1, H, W, 3]));
  const cameras = {
    intrinsics: sample.views.map((v) => Array.from(v.intrinsics)),
    cameraToWorld: sample.views.map((v) => Array.from(v.cameraToWorld)),
  };
  const l = sample.views[0].labels;
  if (!l?.semseg || !l.depth || !l.normals || !l.edge)
    throw new Error('synthetic sample without NYUD labels');
  const labels = {
    semseg: tf.tensor3d(l.semseg, [1, H, W], 'int32'),
    depth: tf.tensor3d(l.depth, [1, H, W]),
    normals: tf.tensor4d(l.normals, [1, H, W, 3]),
    edge: tf.tensor3d(Int32Array.from(l.edge), [1, H, W], 'int32'),
  };
  return { images, cameras, labels };
}

const round = (losses: StepReport['losses'] | FloorEstimate['losses']): string =>
  TASK_NAMES.map((t) => `${t} ${losses[t]?.toFixed(3)}`).join(', ');

let batch: ReturnType<typeof syntheticBatch>;
/** The floor at the fusion size, and at 1/4 (what the `half` fusion must beat); long schedule only. */
let floor: FloorEstimate | null = null;
let quarterFloor: FloorEstimate | null = null;
beforeAll(async () => {
  await selectBackend(['wasm', 'cpu']);
  batch = syntheticBatch();
  if (LONG) {
    quarterFloor = await bilinearFloor(TASKS, batch.labels, [H / 4, W / 4]);
    floor = FUSION === 'quarter' ? quarterFloor : await bilinearFloor(TASKS, batch.labels, [H / 2, W / 2]);
    console.log(`floor (${FUSION}): total ${floor.total.toFixed(3)} (${round(floor.losses)})`);
  }
}, 600_000);

const ALL_MODES: CvmVariant[] = ['none', 'full', 'noCostVolume', 'noCrossViewFeatures', 'selfAttentionOnly'];
const MODES = process.env.OVERFIT_MODES ? (process.env.OVERFIT_MODES.split(',') as CvmVariant[]) : ALL_MODES;

describe('the small model overfits one synthetic batch on the CPU', () => {
  for (const mode of MODES) {
    it(`cvm '${mode}'`, { timeout: 3_600_000 }, async () => {
      tf.engine().startScope();
      // vit_nano_p8 narrowed to D = 32: 4×4 tokens of a 32×32 image, heads at 8×8.
      const encoder = createEncoder('vit_nano_p8', { embedDim: 32 });
      const model = new MultiTaskModel(encoder, {
        tasks: TASKS,
        cvm: mode,
        fusionResolution: FUSION,
        cvmConfig: {
          encoderDims: [8, 12, 16],
          featureChannels: 16,
          numLayers: 1,
          adapterHidden: 16,
          upsamplerHidden: 16,
          depthRange: { near: 0.5, far: 10, count: 8 },
        },
      });
      const trainer = new Trainer(model, { lr: 3e-3, totalIterations: STEPS, weightDecay: 1e-6 });
      const first = await trainer.step(batch);
      const before = tf.memory().numTensors;
      let last = first;
      const t0 = performance.now();
      for (let i = 1; i < STEPS; i++) {
        last = await trainer.step(batch);
        expect(tf.memory().numTensors).toBe(before);
        // The cpu backend never yields to the event loop; let vitest's worker answer its RPC.
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      const ms = (performance.now() - t0) / (STEPS - 1);
      console.log(
        `${mode} (${FUSION}, ${tf.getBackend()}): total ${first.total.toFixed(3)} -> ${last.total.toFixed(3)} ` +
          `(${round(first.losses)} -> ${round(last.losses)}), ${ms.toFixed(0)} ms/step`,
      );
      // Every task learns, not only the heavy ones (edge and normals stop at their floor, ~20 % of the start).
      for (const t of TASK_NAMES)
        expect(last.losses[t] as number).toBeLessThan((LONG ? 0.35 : 0.85) * (first.losses[t] as number));
      expect(last.total).toBeLessThan((LONG ? 0.2 : 0.6) * first.total);
      if (floor && quarterFloor && FUSION === 'quarter') {
        // Within 20 % of what any weights of a head at this resolution reach on this batch, and no task
        // far above its own floor (a slack of a tenth of the total's floor each).
        expect(last.total).toBeLessThan(1.2 * floor.total);
        for (const t of TASK_NAMES)
          expect(last.losses[t] as number).toBeLessThan((floor.losses[t] as number) + 0.1 * floor.total);
      } else if (quarterFloor) {
        // At 1/2 the floor is far lower than 300 steps reach; the finer fusion must at least beat what
        // any head fusing at 1/4 could reach.
        expect(last.total).toBeLessThan(quarterFloor.total);
      }
      trainer.dispose();
      model.dispose();
      tf.engine().endScope();
    });
  }
});
