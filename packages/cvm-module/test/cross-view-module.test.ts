import '@tensorflow/tfjs-backend-cpu';
import { loadModuleSafetensors, manualSeed, moduleToSafetensors } from '@cvm/nn';
import { expectClose, expectNoLeaks, seededUniform } from '@cvm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { CrossViewModule, type CvmMode, estimateMacs } from '../src/index.js';
import { K64x96, maxAbsDiff, POSES, TINY_CONFIG } from './helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const images = (n: number, h = 64, w = 96, seed = 1) =>
  Array.from({ length: n }, (_, i) => seededUniform([1, h, w, 3], seed + i, 0, 1)) as tf.Tensor4D[];
const cameras = (n: number, order = [...Array(n).keys()]) => ({
  intrinsics: order.map(() => K64x96),
  cameraToWorld: order.map((i) => POSES[i]),
});

describe('CrossViewModule shapes', () => {
  for (const views of [2, 3, 4]) {
    it(`${views} views: one [B, H/2, W/2, C + L] output per view`, async () => {
      manualSeed(views);
      const m = new CrossViewModule(TINY_CONFIG);
      const ims = images(views);
      const r = await expectNoLeaks(() => m.forwardWithIntermediates(ims, cameras(views)));
      expect(r.outputs.map((o) => o.shape)).toEqual(Array(views).fill([1, 32, 48, 12]));
      expect(r.features.map((o) => o.shape)).toEqual(Array(views).fill([1, 8, 12, 8]));
      expect(r.costVolumes.map((o) => o.shape)).toEqual(Array(views).fill([1, 8, 12, 4]));
      for (const o of r.outputs) expect(Number.isFinite((await tf.sum(tf.abs(o)).data())[0])).toBe(true);
      tf.dispose([...ims, ...r.outputs, ...r.features, ...r.costVolumes]);
      m.dispose();
    });
  }

  const modes: [CvmMode, number][] = [
    ['noCostVolume', 8],
    ['noCrossViewFeatures', 4],
    ['selfAttentionOnly', 8],
  ];
  for (const [mode, channels] of modes) {
    it(`mode ${mode}: ${channels} output channels`, () => {
      const m = new CrossViewModule({ ...TINY_CONFIG, mode });
      expect(m.outChannels).toBe(channels);
      const ims = images(2);
      const out = m.forward(ims, mode === 'noCrossViewFeatures' ? cameras(2) : null);
      expect(out.map((o) => o.shape)).toEqual([
        [1, 32, 48, channels],
        [1, 32, 48, channels],
      ]);
      tf.dispose([...ims, ...out]);
      m.dispose();
    });
  }

  it('pads sizes not divisible by 8·splits and crops back; sizePolicy error throws instead', async () => {
    const m = new CrossViewModule(TINY_CONFIG);
    // 70×100: the 1/8 map would be 9×13 (not divisible by 2): padded to 80×112.
    const ims = images(2, 70, 100);
    const out = m.forward(ims, cameras(2));
    expect(out[0].shape).toEqual([1, 35, 50, 12]);
    // Same as padding the images ourselves (edge replication) and cropping the output.
    const padded = ims.map((im) => {
      const rows = tf.concat([im, tf.tile(tf.slice(im, [0, 69, 0, 0], [1, 1, 100, 3]), [1, 10, 1, 1])], 1);
      return tf.concat([rows, tf.tile(tf.slice(rows, [0, 0, 99, 0], [1, 80, 1, 3]), [1, 1, 12, 1])], 2);
    });
    const full = m.forward(padded, cameras(2));
    expect(full[0].shape).toEqual([1, 40, 56, 12]);
    expect(await maxAbsDiff(out[1], tf.slice(full[1], [0, 0, 0, 0], [1, 35, 50, 12]))).toBe(0);
    const strict = new CrossViewModule({ ...TINY_CONFIG, sizePolicy: 'error' });
    expect(() => strict.forward(ims, cameras(2))).toThrow(/70x100 is not a multiple of 16/);
    tf.dispose([...ims, ...out, ...padded, ...full]);
    m.dispose();
    strict.dispose();
  });
});

describe('CrossViewModule behaviour', () => {
  it('swapping the order of the neighbour views leaves every view output unchanged', async () => {
    const m = new CrossViewModule(TINY_CONFIG);
    for (const n of [3, 4]) {
      const ims = images(n, 64, 96, 10);
      const order = [0, ...[...Array(n - 1).keys()].map((i) => i + 1).reverse()]; // [0, n-1, ..., 1]
      const a = m.forward(ims, cameras(n));
      const b = m.forward(
        order.map((i) => ims[i]),
        cameras(n, order),
      );
      for (let pos = 0; pos < n; pos++) {
        const d = await maxAbsDiff(b[pos], a[order[pos]]);
        const scale = (await tf.max(tf.abs(a[order[pos]])).data())[0];
        expect(d).toBeLessThan(1e-5 * Math.max(1, scale));
      }
      tf.dispose([...ims, ...a, ...b]);
    }
    m.dispose();
  });

  it('single view: identity cameras make the cost volume constant over depth', async () => {
    const m = new CrossViewModule(TINY_CONFIG);
    const [im] = images(1);
    const r = m.forwardWithIntermediates([im]);
    expect(r.outputs[0].shape).toEqual([1, 32, 48, 12]);
    const cv = r.costVolumes[0];
    const spread = tf.sub(tf.max(cv, 3), tf.min(cv, 3));
    const scale = (await tf.max(tf.abs(cv)).data())[0];
    expect(scale).toBeGreaterThan(1);
    // float32 rounding only: d·x/d is not always exactly x, so the identity warp may sample at x ± ε
    expect((await tf.max(spread).data())[0]).toBeLessThan(1e-5 * scale);
    // and equals <f, f>/sqrt(C) of the (identical) duplicated stream
    const self = tf.div(tf.sum(tf.square(r.features[0]), 3), Math.sqrt(8));
    expect(await maxAbsDiff(tf.squeeze(tf.slice(cv, [0, 0, 0, 0], [1, 8, 12, 1]), [3]), self)).toBeLessThan(
      1e-5 * scale,
    );
    tf.dispose([im, ...r.outputs, ...r.features, ...r.costVolumes, spread, self]);
    m.dispose();
  });

  it('single view equals the duplicated pair under identity cameras (what it used to compute), for every mode', async () => {
    // K = diag(8, 8, 1) in image pixels is the identity at 1/8, the single-view setting's camera.
    const K8 = [
      [8, 0, 0],
      [0, 8, 0],
      [0, 0, 1],
    ];
    const identity = { intrinsics: [K8, K8], cameraToWorld: [POSES[0], POSES[0]] };
    for (const mode of ['full', 'noCostVolume', 'noCrossViewFeatures'] as CvmMode[]) {
      manualSeed(11);
      const m = new CrossViewModule({ ...TINY_CONFIG, mode });
      const [im] = images(1, 70, 100, 21); // padded inside, as well
      const one = m.forwardWithIntermediates([im]);
      const pair = m.forwardWithIntermediates([im, im], identity);
      const scale = (await tf.max(tf.abs(pair.outputs[0])).data())[0];
      expect(await maxAbsDiff(one.outputs[0], pair.outputs[0]), mode).toBeLessThan(1e-6 * Math.max(1, scale));
      expect(await maxAbsDiff(one.features[0], pair.features[0]), mode).toBeLessThan(1e-5);
      expect(one.outputs.length).toBe(1);
      tf.dispose([im, ...Object.values(one).flat(), ...Object.values(pair).flat()]);
      m.dispose();
    }
  });

  it('single view does half the work of two views (conv and matmul FLOPs counted from tf.profile)', async () => {
    // FLOPs of every Conv2D and BatchMatMul kernel the forward runs, from the shapes tf.profile records.
    const flops = async (f: () => tf.Tensor[]) => {
      const info = await tf.profile(() => f());
      tf.dispose(info.result as tf.Tensor[]);
      let total = 0;
      const count = (s: number[]) => s.reduce((a, b) => a * b, 1);
      for (const k of info.kernels) {
        const out = k.outputShapes[0] ?? [];
        const [a, b] = k.inputShapes as number[][];
        if (k.name === 'Conv2D') total += 2 * count(out) * b[0] * b[1] * b[2]; // filter [kh,kw,cin,cout]
        if (k.name === 'BatchMatMul' || k.name === '_FusedMatMul') {
          const m = out[out.length - 2];
          const inner = a[a.length - 2] === m ? a[a.length - 1] : a[a.length - 2];
          total += 2 * count(out) * inner;
        }
      }
      return total;
    };
    const m = new CrossViewModule(TINY_CONFIG);
    const ims = images(2);
    const one = await flops(() => m.forward([ims[0]]));
    const two = await flops(() => m.forward(ims, cameras(2)));
    expect(one).toBeGreaterThan(0);
    // The duplicated-pair implementation ran 97% of the two-view work (all but one upsampler).
    expect(one / two).toBeCloseTo(0.5, 6);
    const macs = (views: number) => estimateMacs(m, { height: 64, width: 96, views }).total;
    expect(macs(1) / macs(2)).toBeCloseTo(0.5, 6);
    tf.dispose(ims);
    m.dispose();
  });

  it('self-attention-only baseline: views do not interact; size comparable to CvM', async () => {
    const m = new CrossViewModule({ ...TINY_CONFIG, mode: 'selfAttentionOnly' });
    const ims = images(2);
    const other = images(1, 64, 96, 99)[0];
    const a = m.forward(ims);
    const b = m.forward([ims[0], other]);
    const [single] = m.forward([ims[0]]);
    expect(await maxAbsDiff(a[0], b[0])).toBe(0);
    expect(await maxAbsDiff(a[0], single)).toBe(0);
    tf.dispose([...ims, other, ...a, ...b, single]);
    m.dispose();
    const full = new CrossViewModule();
    const base = new CrossViewModule({ mode: 'selfAttentionOnly' });
    expect(full.numParameters()).toBe(4_925_232);
    expect(base.numParameters() / full.numParameters()).toBeGreaterThan(0.9);
    full.dispose();
    base.dispose();
  });

  it('cross-view features do depend on the other view', async () => {
    const m = new CrossViewModule({ ...TINY_CONFIG, mode: 'noCostVolume' });
    const ims = images(2);
    const other = images(1, 64, 96, 99)[0];
    const a = m.forward(ims);
    const b = m.forward([ims[0], other]);
    expect(await maxAbsDiff(a[0], b[0])).toBeGreaterThan(1e-3);
    tf.dispose([...ims, other, ...a, ...b]);
    m.dispose();
  });

  it('every parameter receives a gradient, without leaking tensors', async () => {
    const m = new CrossViewModule(TINY_CONFIG);
    const ims = images(3);
    const weights = Array.from({ length: 3 }, (_, i) => seededUniform([1, 32, 48, 12], 50 + i));
    const { value, grads } = await expectNoLeaks(() =>
      tf.variableGrads(() => {
        const out = m.forward(ims, cameras(3));
        return tf.addN(out.map((o, i) => tf.sum(tf.mul(o, weights[i])))) as tf.Scalar;
      }, m.parameters()),
    );
    const names = m.namedParameters();
    expect(Object.keys(grads).length).toBe(names.length);
    for (const [name, p] of names) {
      const g = grads[p.name];
      expect(g, name).toBeDefined();
      expect((await tf.max(tf.abs(g)).data())[0], name).toBeGreaterThan(0);
    }
    tf.dispose([value, ...Object.values(grads), ...ims, ...weights]);
    m.dispose();
  });

  it('save → load round trip gives identical outputs', async () => {
    manualSeed(1);
    const a = new CrossViewModule(TINY_CONFIG);
    manualSeed(2);
    const b = new CrossViewModule(TINY_CONFIG);
    const bytes = await moduleToSafetensors(a);
    const report = loadModuleSafetensors(b, bytes);
    expect(report.missing).toEqual([]);
    const ims = images(2);
    const [oa, ob] = [a.forward(ims, cameras(2)), b.forward(ims, cameras(2))];
    expect(await maxAbsDiff(oa[0], ob[0])).toBe(0);
    expect(await maxAbsDiff(oa[1], ob[1])).toBe(0);
    tf.dispose([...ims, ...oa, ...ob]);
    a.dispose();
    b.dispose();
  });

  it('a tiny config overfits one synthetic batch (loss falls 10×) on cpu', async () => {
    manualSeed(3);
    const m = new CrossViewModule({ ...TINY_CONFIG, numLayers: 1 });
    const ims = images(2, 32, 48, 5);
    const targets = [0, 1].map((i) => seededUniform([1, 16, 24, 12], 70 + i));
    const optimizer = tf.train.adam(2e-2);
    const lossFn = () =>
      tf.tidy(() => {
        const out = m.forward(ims, cameras(2));
        return tf.addN(out.map((o, i) => tf.mean(tf.square(tf.sub(o, targets[i]))))) as tf.Scalar;
      });
    const first = (await lossFn().data())[0];
    let last = first;
    for (let step = 0; step < 300 && last > first / 10; step++) {
      const loss = optimizer.minimize(lossFn, true, m.parameters()) as tf.Scalar;
      last = (await loss.data())[0];
      loss.dispose();
    }
    expect(last).toBeLessThan(first / 10);
    optimizer.dispose();
    tf.dispose([...ims, ...targets]);
    m.dispose();
  });
});

describe('bad input', () => {
  const m = () => new CrossViewModule(TINY_CONFIG);
  it('names the problem', () => {
    const mod = m();
    const [a, b] = images(2);
    const small = images(1, 48, 96)[0];
    const gray = tf.zeros([1, 64, 96, 1]);
    const batch2 = tf.zeros([2, 64, 96, 3]);
    expect(() => mod.forward([], null)).toThrow(/images: no views given/);
    expect(() => mod.forward([a, small], cameras(2))).toThrow(
      /images\[1\]: size 48x96 differs from images\[0\] \(64x96\)/,
    );
    expect(() => mod.forward([a, gray], cameras(2))).toThrow(
      /images\[1\]: expected 3 \(RGB\) channels, got 1/,
    );
    expect(() => mod.forward([a, batch2], cameras(2))).toThrow(/images\[1\]: batch size 2 differs/);
    expect(() => mod.forward([a, b])).toThrow(/cameras: required for 2 views/);
    expect(() => mod.forward([a, b], { intrinsics: [K64x96, K64x96], cameraToWorld: [POSES[0]] })).toThrow(
      /cameras.cameraToWorld: 1 poses for 2 views/,
    );
    expect(() =>
      mod.forward([a, b], { intrinsics: [K64x96, K64x96], cameraToWorld: [POSES[0], POSES[1], POSES[2]] }),
    ).toThrow(/cameras.cameraToWorld: 3 poses for 2 views/);
    expect(() => mod.forward([a, b], { intrinsics: [K64x96], cameraToWorld: [POSES[0], POSES[1]] })).toThrow(
      /cameras.intrinsics: 1 matrices for 2 views/,
    );
    expect(() =>
      mod.forward([a, b], {
        intrinsics: [
          K64x96,
          [
            [1, 2],
            [3, 4],
          ],
        ],
        cameraToWorld: [POSES[0], POSES[1]],
      }),
    ).toThrow(/cameras.intrinsics\[1\]: expected shape \[3,3\]/);
    expect(() =>
      mod.forward([a, b], {
        intrinsics: [K64x96, K64x96],
        cameraToWorld: [
          POSES[0],
          [
            [1, 0, 0, 0],
            [0, 1, 0, 0],
            [0, 0, 1, 0],
            [1, 0, 0, 1],
          ],
        ],
      }),
    ).toThrow(/cameras.cameraToWorld\[1\]: last row must be \[0,0,0,1\]/);
    expect(() => mod.transformer.forward([tf.zeros([1, 8, 12, 8]), tf.zeros([1, 8, 12, 6])])).toThrow(
      /features\[1\] must be \[B,H,W,8\]/,
    );
    expect(() => new CrossViewModule({ mode: 'bogus' as CvmMode })).toThrow(/mode must be one of/);
    expect(() => new CrossViewModule({ depthRange: 'nowhere' as 'indoor' })).toThrow(
      /unknown depthRange 'nowhere'/,
    );
    tf.dispose([a, b, small, gray, batch2]);
    mod.dispose();
  });
});

describe('estimateMacs', () => {
  it('matches the reference note’s hand counts at 448×576, 2 views', () => {
    const mod = new CrossViewModule();
    const macs = estimateMacs(mod, { height: 448, width: 576, views: 2 });
    // cost-volume.md §9: CNN 17.5 GMAC per view, transformer 50.3 GMAC for 2 views, cost volume per
    // ordered pair 0.26 G gather + 0.066 G correlation.
    expect(macs.backbone / 2 / 1e9).toBeCloseTo(17.47, 1);
    expect(macs.transformer / 1e9).toBeCloseTo(50.34, 1);
    expect(macs.costVolume / 2 / 1e9).toBeCloseTo(0.264 + 0.066, 2);
    expectClose(
      [macs.total],
      [macs.backbone + macs.transformer + macs.adapter + macs.costVolume + macs.upsampler],
    );
    mod.dispose();
  });
});

describe('inference-time ablations (options.ablate)', () => {
  it("'costVolume': the outputs no longer depend on the cameras; 'crossViewFeatures': the upsampler sees zeros for the features", async () => {
    manualSeed(5);
    const m = new CrossViewModule(TINY_CONFIG);
    const ims = images(2);
    const cams = cameras(2);
    const moved = { ...cams, cameraToWorld: [POSES[0], POSES[2]] };
    const full = m.forwardWithIntermediates(ims, cams);
    const fullMoved = m.forward(ims, moved);
    // The cost volume is the only camera-dependent part, so the full module changes with the poses...
    expect(await maxAbsDiff(full.outputs[0], fullMoved[0])).toBeGreaterThan(1e-4);
    const noCv = m.forwardWithIntermediates(ims, cams, { ablate: 'costVolume' });
    const noCvMoved = m.forward(ims, moved, { ablate: 'costVolume' });
    // ...and without it, not at all; the returned cost volumes are the computed ones.
    expect(await maxAbsDiff(noCv.outputs[0], noCvMoved[0])).toBe(0);
    expect(await maxAbsDiff(noCv.costVolumes[0], full.costVolumes[0])).toBe(0);
    expect(await maxAbsDiff(noCv.outputs[0], full.outputs[0])).toBeGreaterThan(1e-4);
    // Zero features: the upsampler applied to [0, costVolume] by hand.
    const noCf = m.forward(ims, cams, { ablate: 'crossViewFeatures' });
    const byHand = m.upsampler.forward(
      tf.concat([
        tf.concat([tf.zerosLike(full.features[0]), full.costVolumes[0]], 3),
        tf.concat([tf.zerosLike(full.features[1]), full.costVolumes[1]], 3),
      ]) as tf.Tensor4D,
    );
    expect(await maxAbsDiff(noCf[0], tf.slice(byHand, [0, 0, 0, 0], [1, -1, -1, -1]))).toBeLessThan(1e-5);
    expect(() => m.forward(ims, cams, { ablate: 'depth' as never })).toThrow(
      /ablate must be 'costVolume' or 'crossViewFeatures'/,
    );
    const noCvModule = new CrossViewModule({ ...TINY_CONFIG, mode: 'noCostVolume' });
    expect(() => noCvModule.forward(ims, cams, { ablate: 'costVolume' })).toThrow(
      /mode 'noCostVolume' has no costVolume/,
    );
    await expectNoLeaks(async () => tf.dispose(m.forward(ims, cams, { ablate: 'costVolume' })));
    tf.dispose([
      ...ims,
      ...full.outputs,
      ...full.features,
      ...full.costVolumes,
      ...fullMoved,
      ...noCvMoved,
      ...noCf,
      byHand,
    ]);
    tf.dispose([...noCv.outputs, ...noCv.features, ...noCv.costVolumes]);
    m.dispose();
    noCvModule.dispose();
  });
});
