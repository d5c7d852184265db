import '@tensorflow/tfjs-backend-cpu';
import { existsSync, rmSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  loadCheckpoint,
  PyObject,
  readCheckpoint,
  readZip,
  UnsafePickleError,
  unpickle,
} from '../src/index.js';
import { fixture, fixtureEncoder } from './parity.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Every reader error starts with the name of the layer that found the problem. */
const CLEAR = /^(zip|pickle|torch file|safetensors|checkpoint): /;

function errorOf(fn: () => unknown): Error | null {
  try {
    fn();
    return null;
  } catch (e) {
    return e as Error;
  }
}

const noPersistent = () => {
  throw new Error('pickle: no persistent ids here');
};

describe('restricted unpickler', () => {
  it('refuses a pickle that would call os.system, and runs nothing', async () => {
    const marker = '/tmp/cvm-encoders-pwned';
    rmSync(marker, { force: true });
    const e = errorOf(() => readCheckpoint(fixture('evil.pth')));
    expect(e).toBeInstanceOf(UnsafePickleError);
    expect(e?.message).toMatch(/refused global 'posix\.system'.*nothing was executed/);
    const enc = fixtureEncoder.dinov3();
    await expect(loadCheckpoint(enc, fixture('evil.pth'))).rejects.toThrow(/refused global 'posix\.system'/);
    enc.dispose();
    expect(existsSync(marker)).toBe(false);
  });

  it('refuses any global outside the allow-list (protocol 0 GLOBAL and STACK_GLOBAL)', () => {
    const enc = new TextEncoder();
    // c builtins\neval\n (S'1+1'\n tR.   -> eval('1+1')
    const p0 = enc.encode("cbuiltins\neval\n(S'1+1'\ntR.");
    expect(errorOf(() => unpickle(p0, noPersistent))?.message).toMatch(/refused global 'builtins\.eval'/);
    // protocol 4: \x8c\x0bsubprocess \x8c\x05Popen \x93 ...
    const p4 = Uint8Array.from([
      0x80,
      4,
      0x8c,
      10,
      ...enc.encode('subprocess'),
      0x8c,
      5,
      ...enc.encode('Popen'),
      0x93,
      0x2e,
    ]);
    expect(errorOf(() => unpickle(p4, noPersistent))?.message).toMatch(/refused global 'subprocess\.Popen'/);
  });

  it("keeps RADIO's argparse.Namespace as an inert record", () => {
    const c = readCheckpoint(fixture('radio.pth.tar'));
    expect(c.format).toBe('torch');
    expect(c.stateDictPath).toBe('state_dict');
    const args = c.records.args;
    expect(args).toBeInstanceOf(PyObject);
    expect(args.className).toBe('argparse.Namespace');
    expect((args.state as Map<string, unknown>).get('model')).toBe('vit_base_patch16_224');
    expect(c.tensors['base_model.patch_generator.embedder.weight'].dtype).toBe('F16');
  });
});

describe('truncated and corrupted files', () => {
  it('give clear errors at every truncation point', () => {
    for (const name of ['dinov3_original.pth', 'radio.pth.tar', 'dinov3_hf.safetensors', 'evil.pth']) {
      const bytes = fixture(name);
      const cuts = [
        0,
        3,
        7,
        9,
        21,
        100,
        1000,
        Math.floor(bytes.length / 2),
        bytes.length - 23,
        bytes.length - 1,
      ];
      for (const cut of cuts) {
        const e = errorOf(() => readCheckpoint(bytes.subarray(0, cut)));
        expect(e, `${name} cut at ${cut}`).not.toBeNull();
        expect(e?.message, `${name} cut at ${cut}`).toMatch(CLEAR);
      }
    }
  });

  it('survives a fuzz loop of mutated zip, pickle and safetensors bytes', async () => {
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const pth = new Uint8Array(fixture('radio.pth.tar'));
    const pkl = readZip(pth).find((e) => e.name.endsWith('data.pkl'));
    if (!pkl) throw new Error('fixture has no data.pkl');
    const pklStart = pkl.data.byteOffset - pth.byteOffset;
    const st = new Uint8Array(fixture('dinov3_hf.safetensors'));
    const headerEnd = 8 + new DataView(st.buffer, st.byteOffset).getUint32(0, true);
    const targets = [
      { bytes: pth, from: pklStart, to: pklStart + pkl.data.length }, // the pickle program
      { bytes: pth, from: 0, to: pth.length }, // anywhere in the zip (headers, directory, data)
      { bytes: st, from: 0, to: headerEnd }, // safetensors header
    ];
    let errors = 0;
    const t0 = Date.now();
    for (let round = 0; round < 240; round++) {
      const { bytes, from, to } = targets[round % targets.length];
      const copy = bytes.slice();
      const flips = 1 + rand(4);
      for (let k = 0; k < flips; k++) copy[from + rand(to - from)] = rand(256);
      const e = errorOf(() => readCheckpoint(copy));
      if (e) {
        errors++;
        expect(e.message, `round ${round}`).toMatch(CLEAR);
      }
    }
    expect(errors).toBeGreaterThan(20);
    expect(Date.now() - t0).toBeLessThan(60_000);
  });

  it('refuses legacy (pre-1.6) torch files and compressed zip entries clearly', () => {
    const legacy = Uint8Array.from([
      0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19,
    ]);
    expect(errorOf(() => readCheckpoint(legacy))?.message).toMatch(/legacy \(pre-1\.6, non-zip\)/);
    const zip = new Uint8Array(fixture('evil.pth'));
    // Central directory entry 0: set its compression method to deflate (8).
    const view = new DataView(zip.buffer, zip.byteOffset);
    const cd = zip.findIndex((_, i) => i + 4 <= zip.length && view.getUint32(i, true) === 0x02014b50);
    view.setUint16(cd + 10, 8, true);
    expect(errorOf(() => readCheckpoint(zip))?.message).toMatch(/compression method 8; only stored entries/);
  });
});
