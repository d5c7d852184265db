import { describe, expect, it, vi } from 'vitest';
import { CrossTaskConsistencyEvaluator } from '../src/index.js';

// A plain-array user without the optional peers: loading @cvm/geometry fails as a missing package would.
vi.mock('@cvm/geometry', () => {
  throw new Error("Cannot find package '@cvm/geometry'");
});

describe('cross-task consistency without @cvm/geometry', () => {
  const normals = { data: new Float64Array(4 * 3).fill(0.5), shape: [1, 2, 2, 3] };

  it('normals from depth fail with an error that says what to install or pass', async () => {
    const ev = new CrossTaskConsistencyEvaluator();
    await expect(
      ev.update({
        normals,
        depth: { data: [1, 1, 1, 1], shape: [1, 2, 2] },
        intrinsics: { fx: 1, fy: 1, cx: 0, cy: 0 },
      }),
    ).rejects.toThrow(/need @cvm\/geometry and @tensorflow\/tfjs-core .*or pass \{depthNormals\}/);
  });

  it('given depthNormals, it needs neither', async () => {
    const ev = new CrossTaskConsistencyEvaluator();
    await ev.update({ normals, depthNormals: normals });
    expect(ev.result()).toMatchObject({ pixels: 4, skipped: 0 });
    expect(ev.result().mean).toBeLessThan(1e-6);
  });
});
