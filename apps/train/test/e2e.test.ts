import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodePng, SyntheticWorld, writeNyudMtSample } from '@cvm/datasets/node';
import { readSafetensors } from '@cvm/nn';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli.js';
import { cli, type Result } from './cli-process.js';
import { OPTIONS, PRESETS } from '../src/config.js';
import { readMetrics, type TrainRecord, type ValRecord } from '../src/metrics-log.js';

/** Runs the CLI in this process (commands that train nothing), capturing what it prints. */
async function inProcess(args: string[]): Promise<Result> {
  let stdout = '';
  let stderr = '';
  const log = vi.spyOn(console, 'log').mockImplementation((...a) => void (stdout += `${a.join(' ')}\n`));
  const error = vi.spyOn(console, 'error').mockImplementation((...a) => void (stderr += `${a.join(' ')}\n`));
  try {
    const code = await main(args);
    return { code, signal: null, stdout, stderr };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

// Every tiny run: cpu (deterministic), 4 steps, evaluations at 2 and 4, checkpoints at 2 and 4.
const TINY = ['--preset', 'tiny', '--backend', 'cpu'];

let tmp: string;
let runA: Result;
const dirA = () => join(tmp, 'a');

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'cvm-train-e2e-'));
  // The reference run: a baseline without CvM, then CvM, uninterrupted.
  runA = await cli([...TINY, '--run-dir', dirA()]);
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The table row of `name` in a printed table. */
function tableRow(stdout: string, name: string): string {
  const line = stdout.split('\n').find((l) => l.startsWith(name) && /^\s*\|/.test(l.slice(name.length)));
  if (!line) throw new Error(`no table row '${name}' in:\n${stdout}`);
  return line
    .split('|')
    .map((c) => c.trim())
    .join(' | ');
}

describe('train CLI, end to end on the tiny preset', () => {
  it('trains the baseline and CvM and prints the table with ΔMTL', () => {
    expect(runA.stderr).not.toMatch(/error:/);
    expect(runA.code).toBe(0);
    expect(runA.stdout).toMatch(/backend: cpu/);
    expect(tableRow(runA.stdout, 'MTL baseline (no CvM)')).toMatch(/\|\s+0\.00$/);
    const row = tableRow(runA.stdout, 'CvM (full)');
    expect(row.split('|')).toHaveLength(6); // method, 4 NYUD tasks, ΔMTL
    expect(row).toMatch(/-?\d+\.\d\d$/);
  });

  it('writes a run directory with every file', () => {
    for (const dir of [dirA(), join(dirA(), 'baseline')]) {
      for (const f of [
        'config.json',
        'metrics.jsonl',
        'report.html',
        'plots/losses.svg',
        'plots/lr.svg',
        'plots/val.svg',
      ])
        expect(existsSync(join(dir, f)), `${dir}/${f}`).toBe(true);
      expect(readdirSync(join(dir, 'checkpoints')).sort()).toEqual(['best', 'step-000002', 'step-000004']);
      for (const f of ['model.safetensors', 'optimizer.safetensors', 'state.json', 'config.json'])
        expect(existsSync(join(dir, 'checkpoints', 'step-000004', f))).toBe(true);
      expect(readdirSync(join(dir, 'predictions')).filter((n) => n.endsWith('.png'))).toHaveLength(1);
      const svg = readFileSync(join(dir, 'plots', 'losses.svg'), 'utf8');
      expect(svg).toMatch(/^<svg/);
      for (const t of ['semseg', 'depth', 'normals', 'edge']) expect(svg).toContain(t);
      const html = readFileSync(join(dir, 'report.html'), 'utf8');
      expect(html).toContain('data:image/png;base64,');
      expect(html.match(/<svg/g)?.length).toBeGreaterThanOrEqual(3);
    }
    const records = readMetrics(join(dirA(), 'metrics.jsonl'));
    const train = records.filter((r): r is TrainRecord => r.kind === 'train');
    expect(train.map((r) => r.step)).toEqual([1, 2, 3, 4]);
    for (const r of train) {
      expect(Object.keys(r.losses).sort()).toEqual(['depth', 'edge', 'normals', 'semseg']);
      expect(r.lr).toBeGreaterThan(0);
      expect(r.samplesPerSecond).toBeGreaterThan(0);
    }
    // lr follows the poly schedule per iteration: base·(1 − i/T)^0.9 at the update of iteration i.
    expect(train[1].lr).toBeCloseTo(1e-3 * (1 - 1 / 4) ** 0.9, 10);
    const val = records.filter((r): r is ValRecord => r.kind === 'val');
    expect(val.map((r) => r.step)).toEqual([2, 4]);
    expect(val[1].deltaMtl).toBeTypeOf('number');
  });

  it('saves weights with PyTorch names and the optimizer state', () => {
    const ckpt = join(dirA(), 'checkpoints', 'step-000004');
    const weights = readSafetensors(readFileSync(join(ckpt, 'model.safetensors')));
    const names = Object.keys(weights.tensors);
    expect(names.some((n) => n.startsWith('backbone.'))).toBe(true);
    expect(names.some((n) => n.startsWith('cvm.transformer.'))).toBe(true);
    expect(names).toContain('heads.semseg.linear_fuse.1.running_mean');
    const opt = readSafetensors(readFileSync(join(ckpt, 'optimizer.safetensors')));
    expect(Object.keys(opt.tensors).filter((n) => n.endsWith('.step')).length).toBeGreaterThan(0);
    const state = JSON.parse(readFileSync(join(ckpt, 'state.json'), 'utf8'));
    expect(state.step).toBe(4);
    expect(state.data).toMatchObject({ seed: 0, epoch: 0, batchInEpoch: 4, batchesPerEpoch: 8 });
  });

  it('eval reproduces the printed numbers from the checkpoint', async () => {
    const r = await inProcess(['eval', dirA(), '--backend', 'cpu']);
    expect(r.stderr).not.toMatch(/error:/);
    expect(r.code).toBe(0);
    expect(tableRow(r.stdout, 'CvM (full)')).toBe(tableRow(runA.stdout, 'CvM (full)'));
  });

  it('predict writes single-view prediction panels for images', async () => {
    const image = join(dirA(), 'predictions', readdirSync(join(dirA(), 'predictions'))[0]);
    const out = join(tmp, 'predict');
    const r = await inProcess(['predict', dirA(), image, '--out', out, '--backend', 'cpu']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const written = readdirSync(out);
    expect(written).toHaveLength(1);
    const panel = decodePng(readFileSync(join(out, written[0])));
    expect([panel.height, panel.width]).toEqual([32, 5 * 48 + 4 * 2]); // RGB + 4 tasks at the run's 32×48
  });

  it('predict --cameras: two frames and their COLMAP model form one multi-view sample', async () => {
    // Two frames of a synthetic clip at another size than the run's, with their COLMAP text model.
    const root = join(tmp, 'colmap');
    const sample = new SyntheticWorld({ seed: 4, views: 2, height: 48, width: 64 }).sample('val', 0);
    writeNyudMtSample(root, sample);
    const mv = join(root, 'multiview', sample.id);
    const frames = readFileSync(join(mv, 'views.txt'), 'utf8').trim().split('\n');
    const images = frames.map((f) => join(mv, 'images', f));
    const multi = await inProcess([
      'predict',
      dirA(),
      ...images,
      '--cameras',
      join(mv, 'sparse', '0'),
      '--out',
      join(tmp, 'p-multi'),
      '--backend',
      'cpu',
    ]);
    expect(multi.stderr).toBe('');
    expect(multi.code).toBe(0);
    const single = await inProcess([
      'predict',
      dirA(),
      images[0],
      '--out',
      join(tmp, 'p-single'),
      '--backend',
      'cpu',
    ]);
    expect(single.code).toBe(0);
    const [m] = readdirSync(join(tmp, 'p-multi'));
    expect(readdirSync(join(tmp, 'p-single'))).toEqual([m]); // one panel, named after the reference
    const a = decodePng(readFileSync(join(tmp, 'p-multi', m)));
    const b = decodePng(readFileSync(join(tmp, 'p-single', m)));
    expect([a.height, a.width]).toEqual([32, 5 * 48 + 4 * 2]);
    // Same reference image; the CvM's neighbour and cameras change the predictions.
    expect(Buffer.compare(Buffer.from(a.data), Buffer.from(b.data))).not.toBe(0);
    const other = join(tmp, 'not-in-the-model.png');
    cpSync(images[1], other);
    const bad = await inProcess([
      'predict',
      dirA(),
      images[0],
      other,
      '--cameras',
      join(mv, 'sparse', '0'),
      '--backend',
      'cpu',
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/images\.txt: no image named 'not-in-the-model\.png'/);
  });

  it('a run killed with SIGKILL and resumed gives the same losses as the uninterrupted run', async () => {
    const dir = join(tmp, 'b');
    const killed = await cli([...TINY, '--baseline', 'off', '--run-dir', dir], {
      CVM_TRAIN_KILL_AT_STEP: '3',
    });
    expect(killed.signal).toBe('SIGKILL');
    expect(readdirSync(join(dir, 'checkpoints')).sort()).toEqual(['best', 'step-000002']);
    const resumed = await cli(['--resume', dir, '--backend', 'cpu']);
    expect(resumed.stderr).not.toMatch(/error:/);
    expect(resumed.code).toBe(0);
    expect(readdirSync(join(dir, 'checkpoints')).sort()).toEqual(['best', 'step-000002', 'step-000004']);
    const a = readMetrics(join(dirA(), 'metrics.jsonl'));
    const b = readMetrics(join(dir, 'metrics.jsonl'));
    const losses = (rs: typeof a) =>
      rs
        .filter((r): r is TrainRecord => r.kind === 'train')
        .map((r) => ({ step: r.step, total: r.total, losses: r.losses }));
    expect(losses(b)).toEqual(losses(a));
    const scores = (rs: typeof a) =>
      rs.filter((r): r is ValRecord => r.kind === 'val').map((r) => [r.step, r.scores]);
    expect(scores(b)).toEqual(scores(a));
  });

  it('rejects a checkpoint of another architecture, and a corrupted one, with clear errors', async () => {
    const wrong = join(tmp, 'wrong');
    cpSync(join(dirA(), 'checkpoints', 'step-000004'), wrong, { recursive: true });
    const config = JSON.parse(readFileSync(join(wrong, 'config.json'), 'utf8'));
    writeFileSync(join(wrong, 'config.json'), JSON.stringify({ ...config, cvm: 'noCostVolume' }));
    const r1 = await inProcess(['eval', wrong, '--backend', 'cpu']);
    expect(r1.code).toBe(1);
    expect(r1.stderr).toMatch(/does not fit this model/);

    const torn = join(tmp, 'torn');
    cpSync(join(dirA(), 'checkpoints', 'step-000004'), torn, { recursive: true });
    truncateSync(join(torn, 'model.safetensors'), 1000);
    const r2 = await inProcess(['eval', torn, '--backend', 'cpu']);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/is corrupted: model\.safetensors/);

    // A new run whose model cannot be built (encoder weights of another model) leaves no run directory.
    const refused = join(tmp, 'refused');
    const r3 = await inProcess([
      ...TINY,
      '--encoder-weights',
      join(torn, 'model.safetensors'),
      '--run-dir',
      refused,
    ]);
    expect(r3.code).toBe(1);
    expect(r3.stderr).toMatch(/--encoder-weights/);
    expect(existsSync(refused)).toBe(false);
  });

  it('gives clear errors for an unknown preset, a missing dataset folder and an unknown flag', async () => {
    const dir = join(tmp, 'never');
    const r1 = await inProcess(['--preset', 'nope', '--run-dir', dir]);
    expect(r1.code).toBe(1);
    expect(r1.stderr).toMatch(/unknown preset 'nope' \(known: default, tiny, paper-nyud, paper-pascal\)/);
    const r2 = await inProcess([
      '--dataset',
      'nyud',
      '--data-root',
      join(tmp, 'no-such-nyud'),
      '--run-dir',
      dir,
    ]);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/dataset folder '.*no-such-nyud' does not exist/);
    const r3 = await inProcess(['--stepz', '3']);
    expect(r3.code).toBe(1);
    expect(r3.stderr).toMatch(/stepz/);
    expect(existsSync(dir)).toBe(false);
  });

  it('--help lists every option and preset', async () => {
    const r = await inProcess(['--help']);
    expect(r.code).toBe(0);
    for (const o of OPTIONS) expect(r.stdout).toContain(`--${o.flag}`);
    for (const p of Object.keys(PRESETS)) expect(r.stdout).toContain(p);
  });
});
