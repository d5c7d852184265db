import '@tensorflow/tfjs-backend-cpu';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expectClose } from '@cvm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { toTorchLayout } from '@cvm/nn';
import { DecodeHead, type FusionResolution, loadSakHead } from '../src/index.js';
import { FIXTURES, Fixture, maxAbs } from './helpers.js';

let fx: Fixture;
let cases: Record<
  string,
  { d: number; classes: number; cvm: number; fusion: FusionResolution; img: [number, number] }
>;
beforeAll(async () => {
  await tf.setBackend('cpu');
  fx = new Fixture('heads.safetensors');
  cases = JSON.parse(JSON.parse(readFileSync(join(FIXTURES, 'heads.meta.json'), 'utf8')).heads);
});

describe('DecodeHead matches SAK DecodeHead (+ CvM fusion) in PyTorch', () => {
  for (const name of ['sak', 'cvm_quarter', 'cvm_half']) {
    it(`${name}: output, gradients of inputs and parameters, BatchNorm running stats`, async () => {
      const c = cases[name];
      const head = new DecodeHead({
        inChannels: c.d,
        numClasses: c.classes,
        cvmChannels: c.cvm,
        fusionResolution: c.fusion,
      });
      expect(head.namedEntries().map((e) => e.name)).toEqual([
        ...[0, 1, 2, 3].flatMap((k) => [`linears.${k}.weight`, `linears.${k}.bias`]),
        ...(c.cvm
          ? ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked'].map(
              (n) => `cvm_norm.${n}`,
            )
          : []),
        'linear_fuse.0.weight',
        'linear_fuse.0.bias',
        'linear_fuse.1.weight',
        'linear_fuse.1.bias',
        'linear_fuse.1.running_mean',
        'linear_fuse.1.running_var',
        'linear_fuse.1.num_batches_tracked',
        'last_conv.weight',
        'last_conv.bias',
      ]);
      fx.load(head, `head.${name}.init`);
      const maps = [0, 1, 2, 3].map((k) => tf.variable(fx.tensor(`head.map${k}`)));
      const cvm = c.cvm ? tf.variable(fx.tensor('head.cvm')) : null;
      const g = fx.tensor(`head.${name}.g`);
      let y: tf.Tensor | null = null;
      const params = head.namedParameters();
      const { value, grads } = tf.variableGrads(() => {
        y = tf.keep(head.forward(maps, c.img, cvm));
        return tf.sum(tf.mul(y, g)) as tf.Scalar;
      }, [...maps, ...(cvm ? [cvm] : []), ...params.map(([, v]) => v)]);
      const yv = y as unknown as tf.Tensor;
      expect(yv.shape).toEqual(fx.shape(`head.${name}.y`));
      expectClose(await yv.data(), fx.values(`head.${name}.y`), { atol: 1e-5, rtol: 1e-4 });
      const check = async (t: tf.Tensor, ref: string) => {
        const r = fx.values(ref);
        expectClose(await t.data(), r, { atol: 1e-5 * Math.max(1, maxAbs(r)), rtol: 1e-4 });
      };
      for (let k = 0; k < 4; k++) await check(grads[maps[k].name], `head.${name}.dmap${k}`);
      if (cvm) await check(grads[cvm.name], `head.${name}.dcvm`);
      for (const e of head.namedEntries().filter((x) => x.kind === 'parameter')) {
        const torchGrad = toTorchLayout(e.name, grads[e.variable.name], e.layout);
        await check(torchGrad, `head.${name}.grad.${e.name}`);
        torchGrad.dispose();
      }
      for (const e of head.namedBuffers()) {
        expectClose(await e[1].data(), fx.values(`head.${name}.after.${e[0]}`), { atol: 1e-5, rtol: 1e-5 });
      }
      tf.dispose([yv, value, g, ...maps, ...(cvm ? [cvm] : []), ...Object.values(grads)]);
      head.dispose();
    });
  }

  it("loadSakHead: SAK weights in a CvM head compute SAK's function (CvM part zero)", async () => {
    const c = cases.sak;
    const head = new DecodeHead({ inChannels: c.d, numClasses: c.classes, cvmChannels: 6 });
    const names = fx.names('head.sak.init.');
    const sak = Object.fromEntries(
      names.map((n) => [
        n.slice('head.sak.init.'.length),
        fx.tensor(n, n.endsWith('tracked') ? 'int32' : 'float32'),
      ]),
    );
    loadSakHead(head, sak);
    const maps = [0, 1, 2, 3].map((k) => fx.tensor(`head.map${k}`));
    const y = head.forward(maps, c.img, tf.randomNormal([2, 16, 24, 6]));
    expectClose(await y.data(), fx.values('head.sak.y'), { atol: 1e-5, rtol: 1e-4 });
    expect(() => loadSakHead(head, { ...sak, 'linear_fuse.0.weight': tf.zeros([16, 8, 3, 3]) })).toThrow(
      /must be SAK's/,
    );
    tf.dispose([y, ...maps, ...Object.values(sak)]);
    head.dispose();
  });

  it('checks its inputs', () => {
    const head = new DecodeHead({ inChannels: 8, numClasses: 2, cvmChannels: 3 });
    const maps = [0, 1, 2, 3].map(() => tf.zeros([1, 2, 2, 8]));
    expect(() => head.forward(maps, [32, 32])).toThrow(/cvm must be \[1,16,16,3\]/);
    expect(() => head.forward(maps.slice(1), [32, 32], tf.zeros([1, 16, 16, 3]))).toThrow(/4 encoder maps/);
    expect(() =>
      head.forward([...maps.slice(1), tf.zeros([1, 2, 2, 4])], [32, 32], tf.zeros([1, 16, 16, 3])),
    ).toThrow(/features\[3\] must be \[1,h,w,8\]/);
    expect(() => new DecodeHead({ inChannels: 6, numClasses: 2 })).toThrow(/divisible by 4/);
    expect(
      () => new DecodeHead({ inChannels: 8, numClasses: 2, fusionResolution: 'x' as FusionResolution }),
    ).toThrow(/fusionResolution/);
    head.dispose();
  });
});
