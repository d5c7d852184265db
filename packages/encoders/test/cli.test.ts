import '@tensorflow/tfjs-backend-cpu';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSafetensors } from '@cvm/nn';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli-commands.js';
import { loadCheckpoint } from '../src/index.js';
import { expectedTensor, expectMaps, FIXTURES, fixtureEncoder } from './parity.js';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli.ts');
const dir = mkdtempSync(join(tmpdir(), 'cvm-encoders-cli-'));
/** Runs a command line in-process; resolves with what it printed. */
async function run(...args: string[]): Promise<string> {
  const printed: string[] = [];
  const code = await runCli(args, (t) => printed.push(t));
  expect(code).toBe(0);
  return printed.join('\n');
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('cvm-encoders CLI', () => {
  it('the bin prints its usage with --help', () => {
    const out = execFileSync('npx', ['tsx', '--conditions=cvm-source', CLI, '--help'], { encoding: 'utf8' });
    expect(out).toMatch(/^Usage: cvm-encoders inspect/);
  });

  it('inspect reports family, naming scheme, preset, parameters and dtypes', async () => {
    const out = JSON.parse(await run('inspect', join(FIXTURES, 'radio.pth.tar'), '--heads', '2'));
    expect(out).toMatchObject({
      format: 'torch',
      stateDict: 'state_dict',
      scheme: 'radio-original',
      family: 'radio',
      preset: 'radio_v2.5-b',
      dtypes: { F16: 54 },
      records: ['args'],
    });
    expect(out.parameters).toBe(253_440);
  });

  it('convert writes one safetensors file with the package names that loads strictly and gives the same features', async () => {
    const target = join(dir, 'sak.safetensors');
    await run('convert', join(FIXTURES, 'sak_stage2.safetensors'), target, '--heads', '2', '--grid', '4x6');
    const bytes = readFileSync(target);
    const names = Object.keys(readSafetensors(bytes).tensors);
    expect(names).toContain('vit.blocks.0.attn.qkv.weight');
    expect(names.some((n) => n.startsWith('backbone.') || n.startsWith('heads.'))).toBe(false);
    const enc = fixtureEncoder.sak();
    const report = await loadCheckpoint(enc, target);
    expect([report.scheme, report.ignored]).toEqual(['sak-stage1', []]);
    enc.eval();
    const x = expectedTensor('image') as tf.Tensor4D;
    const maps = enc.forwardIntermediates(x, { task: 'depth' });
    await expectMaps(maps, 'sak.depth');
    tf.dispose([x, ...maps]);
    enc.dispose();
  });

  it('fails with a clear message for a refused pickle, and with the usage for a bad command line', async () => {
    await expect(run('inspect', join(FIXTURES, 'evil.pth'))).rejects.toThrow(
      /refused global 'posix\.system'/,
    );
    const printed: string[] = [];
    expect(await runCli(['convert', 'only-one-file'], (t) => printed.push(t))).toBe(2);
    expect(printed[0]).toMatch(/^Usage: cvm-encoders/);
  });
});
