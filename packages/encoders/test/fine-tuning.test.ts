import '@tensorflow/tfjs-backend-cpu';
import { expectNoLeaks } from '@cvm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createEncoder, freeze, isLoRAParameter, loadCheckpoint, setTrainable } from '../src/index.js';
import { fixture } from './parity.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const SMALL = { embedDim: 64, depth: 4, numHeads: 2, numRegisters: 2, outLayers: [0, 1, 2, 3] };

describe('fine-tuning', () => {
  it('every parameter is trainable by default; freeze / setTrainable select them by name', () => {
    const enc = createEncoder('vit_nano_p8');
    expect(enc.trainableParameters().length).toBe(enc.parameters().length);
    expect(freeze(enc)).toEqual([]);
    expect(enc.trainableParameters().length).toBe(0);
    const norms = setTrainable(enc, true, (n) => n.startsWith('norm.'));
    expect(norms).toEqual(['norm.weight', 'norm.bias']);
    expect(enc.trainableParameters().length).toBe(2);
    enc.dispose();
  });

  it('LoRA on qkv/proj: PEFT names, identity at init, base checkpoints still load strictly, only adapters train', async () => {
    const base = createEncoder('dinov3_vitb16', SMALL);
    const enc = createEncoder('dinov3_vitb16', { ...SMALL, lora: { rank: 4, alpha: 8 } });
    const names = enc.namedParameters().map(([n]) => n);
    expect(names).toContain('blocks.0.attn.qkv.lora_A.weight');
    expect(names).toContain('blocks.3.attn.proj.lora_B.weight');
    expect(enc.namedParameters().find(([n]) => n === 'blocks.0.attn.qkv.lora_A.weight')?.[1].shape).toEqual([
      64, 4,
    ]);
    for (const e of [base, enc]) {
      const report = await loadCheckpoint(e, fixture('dinov3_original.pth'));
      expect(report.missing).toEqual([]);
    }
    const x = tf.randomUniform([1, 32, 48, 3]) as tf.Tensor4D;
    const [a, b] = [base, enc].map((e) => e.forwardIntermediates(x, { layers: [3] })[0]);
    expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBe(0);
    const trainable = freeze(enc);
    expect(trainable.length).toBe(4 * 2 * 2);
    expect(trainable.every(isLoRAParameter)).toBe(true);
    const { grads } = await expectNoLeaks(() =>
      tf.variableGrads(
        () => tf.mean(tf.square(enc.forwardIntermediates(x, { layers: [3] })[0])) as tf.Scalar,
      ),
    ).then((r) => ({ grads: r.grads, value: r.value }));
    const lora = enc.namedParameters().filter(([n]) => n.includes('lora_B'));
    for (const [n, v] of lora) expect(tf.max(tf.abs(grads[v.name])).dataSync()[0], n).toBeGreaterThan(0);
    expect(Object.keys(grads).length).toBe(trainable.length);
    tf.dispose([x, a, b, ...Object.values(grads)]);
    base.dispose();
    enc.dispose();
  });
});
