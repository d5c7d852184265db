import { describe, expect, it } from 'vitest';
import { resolveConfig, type TrainConfig } from '../src/config.js';
import { trainLoader, valLoader } from '../src/data.js';

/** Per sample id: the distance of each neighbour's camera centre from the reference's, from the loader. */
async function baselines(loader: ReturnType<typeof trainLoader>): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  try {
    for await (const b of loader.epoch(0)) {
      for (let i = 0; i < b.size; i++) {
        const pose = (v: number) =>
          b.cameraToWorld.subarray((i * b.views + v) * 16, (i * b.views + v + 1) * 16);
        const c0 = pose(0);
        out.set(
          b.ids[i],
          Array.from({ length: b.views - 1 }, (_, v) => {
            const c = pose(v + 1);
            return Math.hypot(c[3] - c0[3], c[7] - c0[7], c[11] - c0[11]);
          }),
        );
      }
    }
  } finally {
    await loader.close();
  }
  return out;
}

describe('the data path', () => {
  it("--baseline-scale s puts the neighbours' cameras s times as far from the reference (train and val)", async () => {
    // World seed 1: these scenes' neighbours stay inside the room at 3× (none stops at a wall).
    const at = (baselineScale: number): TrainConfig =>
      resolveConfig('tiny', {}, { views: 3, trainScenes: 4, valScenes: 2, worldSeed: 1, baselineScale });
    for (const [s, loader] of [
      [3, trainLoader],
      [0.5, trainLoader],
      [3, valLoader],
    ] as const) {
      const one = await baselines(loader(at(1)));
      const wide = await baselines(loader(at(s)));
      expect([...wide.keys()].sort()).toEqual([...one.keys()].sort());
      expect(one.size).toBeGreaterThan(0);
      for (const [id, d] of one) {
        expect(d).toHaveLength(2);
        for (const [v, x] of d.entries()) {
          expect(x).toBeGreaterThan(0.005);
          expect((wide.get(id) as number[])[v] / x).toBeCloseTo(s, 4);
        }
      }
    }
  });
});
