import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { useWebGPUForTests } from '@cvm/backend';
import { ImageRangeCheck } from '@cvm/nn';
import { expectClose, seededUniform } from '@cvm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { CrossViewModule, splitMultiViewBatch } from '../src/index.js';
import { K64x96, POSES, TINY_CONFIG } from './helpers.js';

describe('webgpu backend (SwiftShader in Node)', () => {
  it('matches the cpu backend for 3 views, forward and gradients', async (ctx) => {
    await tf.setBackend('cpu');
    const m = new CrossViewModule(TINY_CONFIG);
    const cams = { intrinsics: [K64x96, K64x96, K64x96], cameraToWorld: POSES.slice(0, 3) };
    const run = async () => {
      const ims = [1, 2, 3].map((s) => seededUniform([1, 64, 96, 3], s, 0, 1));
      const w = seededUniform([1, 32, 48, 12], 9);
      const { value, grads } = tf.variableGrads(
        () => tf.addN(m.forward(ims, cams).map((o) => tf.sum(tf.mul(o, w)))) as tf.Scalar,
        [m.backbone.conv1.weight, m.transformer.layers.get(0).cross_attn_ffn.k_proj.weight],
      );
      const out = m.forward(ims, cams);
      const result = {
        out: await Promise.all(out.map((o) => o.data())),
        loss: (await value.data())[0],
        grads: await Promise.all(Object.values(grads).map((g) => g.data())),
      };
      tf.dispose([...ims, w, value, ...Object.values(grads), ...out]);
      return result;
    };
    const cpu = await run();
    if (!(await useWebGPUForTests())) return ctx.skip();
    expect(tf.getBackend()).toBe('webgpu');
    const before = tf.memory().numTensors;
    const gpu = await run();
    expect(tf.memory().numTensors).toBe(before);
    for (let i = 0; i < 3; i++) {
      const scale = Math.max(...Array.from(cpu.out[i], Math.abs));
      expectClose(gpu.out[i] as Float32Array, cpu.out[i] as Float32Array, { atol: 1e-4 * scale });
    }
    expectClose([gpu.loss], [cpu.loss], { rtol: 1e-3 });
    for (let i = 0; i < cpu.grads.length; i++) {
      const scale = Math.max(...Array.from(cpu.grads[i], Math.abs));
      expectClose(gpu.grads[i] as Float32Array, cpu.grads[i] as Float32Array, { atol: 1e-3 * scale });
    }
    m.dispose();
  });

  it('the image range check reads asynchronously (no GPU stall) and the next call throws', async () => {
    if (!(await useWebGPUForTests())) return;
    const guard = new ImageRangeCheck();
    const good = seededUniform([1, 16, 16, 3], 4, 0, 1);
    const bytes = tf.mul(good, 255);
    expect(() => guard.check(bytes, 'images[1]')).not.toThrow(); // nothing read synchronously
    await bytes.data(); // a later read: the check's own read has completed by now
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(() => guard.check(good, 'images[0]')).toThrow(
      /images\[1\] of an earlier call: expected float32 RGB in \[0,1\], got values in \[.*\] \(0\.\.255/,
    );
    guard.check(good, 'images[0]'); // reported once; good input passes
    await good.data();
    await new Promise((resolve) => setTimeout(resolve, 0));
    guard.throwPending();
    tf.dispose([good, bytes]);
  });

  it('splitMultiViewBatch reads camera tensors made from host arrays (as batchToTensors makes them)', async () => {
    if (!(await useWebGPUForTests())) return;
    const K = [10, 0, 7.5, 0, 10, 7.5, 0, 0, 1];
    const pose = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
    const images = seededUniform([1, 2, 16, 16, 3], 8, 0, 1);
    const batch = {
      images,
      intrinsics: tf.tensor4d([...K, ...K.map((k, i) => (i === 2 ? 8.5 : k))], [1, 2, 3, 3]),
      cameraToWorld: tf.tensor4d([...pose, ...pose.map((p, i) => (i === 3 ? 0.1 : p))], [1, 2, 4, 4]),
    };
    const split = splitMultiViewBatch(batch);
    expect(Array.from(split.cameras.intrinsics[1] as Float64Array)).toEqual([
      10, 0, 8.5, 0, 10, 7.5, 0, 0, 1,
    ]);
    expect((split.cameras.cameraToWorld[1] as Float64Array)[3]).toBeCloseTo(0.1, 7);
    const second = tf.slice(images, [0, 1, 0, 0, 0], [1, 1, 16, 16, 3]);
    expect(Array.from(await split.images[1].data())).toEqual(Array.from(await second.data()));
    tf.dispose([images, batch.intrinsics, batch.cameraToWorld, second, ...split.images]);
  });
});
