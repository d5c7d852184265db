import '@tensorflow/tfjs-backend-cpu';
import { expectClose, expectNoLeaks } from '@cvm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  checkImageRange,
  IMAGENET_MEAN,
  IMAGENET_STD,
  ImageRangeCheck,
  normalizeImage,
} from '../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('normalizeImage', () => {
  it('(x − mean)/std per channel, any rank with 3 channels last, own statistics too', async () => {
    const x = tf.tensor([0, 0.5, 1, 0.25, 0.75, 0.1], [1, 1, 2, 1, 3]); // [B,V,H,W,3]
    const y = await expectNoLeaks(() => normalizeImage(x));
    expect(y.shape).toEqual([1, 1, 2, 1, 3]);
    const v = [0, 0.5, 1, 0.25, 0.75, 0.1];
    expectClose(
      (await y.data()) as Float32Array,
      v.map((a, i) => (a - IMAGENET_MEAN[i % 3]) / IMAGENET_STD[i % 3]),
      { atol: 1e-6 },
    );
    const z = normalizeImage(x, { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
    expectClose(
      (await z.data()) as Float32Array,
      v.map((a) => 2 * a - 1),
      { atol: 1e-6 },
    );
    tf.dispose([x, y, z]);
  });

  it('names bad input', () => {
    const gray = tf.zeros([1, 4, 4, 1]);
    const ints = tf.zeros([1, 4, 4, 3], 'int32');
    const rgb = tf.zeros([1, 4, 4, 3]);
    expect(() => normalizeImage(gray)).toThrow(/images must be \[\.\.\., 3\] RGB, got \[1,4,4,1\]/);
    expect(() => normalizeImage(ints)).toThrow(/float32 RGB in \[0,1\], got int32/);
    expect(() => normalizeImage(rgb, { std: [1, 0, 1] })).toThrow(/std > 0/);
    tf.dispose([gray, ints, rgb]);
  });
});

describe('image range checks', () => {
  it('ImageRangeCheck throws at once on the cpu backend, naming the argument; [0,1] passes; no leaks', async () => {
    const guard = new ImageRangeCheck();
    const good = tf.randomUniform([1, 8, 8, 3]);
    const bytes = tf.mul(good, 255);
    const normalised = normalizeImage(good);
    await expectNoLeaks(() => guard.check(good, 'images[0]'));
    expect(() => guard.check(bytes, 'images[1]')).toThrow(
      /images\[1\]: expected float32 RGB in \[0,1\], got values in \[.*\] \(0\.\.255 values\? divide by 255\)/,
    );
    expect(() => guard.check(normalised, 'images[0]')).toThrow(/images\[0\]: .*\(already normalised\?/);
    expect(() => guard.check(tf.fill([2], 1.04), 'x')).not.toThrow(); // resampling overshoot tolerated
    await expect(checkImageRange(bytes, 'batch.images')).rejects.toThrow(/batch\.images: expected/);
    await expect(checkImageRange(good, 'batch.images')).resolves.toBeUndefined();
    tf.dispose([good, bytes, normalised]);
  });
});
