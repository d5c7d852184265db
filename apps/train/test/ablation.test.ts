import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ABLATION_VARIANTS, type AblationRun, ablationRows, parseAblationRows } from '../src/ablation.js';
import { cli } from './cli-process.js';

const run = (variant: string, seed: number, depth: number, deltaMtl: number): AblationRun => ({
  variant,
  seed,
  runDir: `${variant}-${seed}`,
  scores: { semseg: 10, depth },
  deltaMtl,
  seconds: 1,
});

describe('ablation table', () => {
  it('rows: means over seeds, ΔMTL mean and sample std, baseline row 0 with its seed noise', () => {
    const rows = ablationRows([
      run('baseline', 0, 1.0, 0),
      run('baseline', 1, 1.2, -10),
      run('cvm', 0, 0.8, 10),
      run('cvm', 1, 1.0, 16),
      run('no-cost-volume', 0, 0.9, 5),
    ]);
    expect(rows.map((r) => r.variant)).toEqual(['baseline', 'cvm', 'no-cost-volume']);
    expect(rows[0].deltaMtl).toBe(0);
    expect(rows[0].deltaMtlPerSeed).toEqual([0, -10]);
    expect(rows[0].deltaMtlStd).toBeCloseTo(Math.sqrt(50), 10);
    expect(rows[1].scores.depth).toBeCloseTo(0.9, 12);
    expect(rows[1].deltaMtl).toBe(13);
    expect(rows[1].deltaMtlStd).toBeCloseTo(Math.sqrt(18), 10);
    expect(rows[2].deltaMtlStd).toBeNull();
  });

  it('--rows picks rows by key, in training order, and always with the baseline', () => {
    expect(parseAblationRows('cvm,baseline').map((v) => v.key)).toEqual(['baseline', 'cvm']);
    expect(parseAblationRows('all')).toEqual(ABLATION_VARIANTS);
    expect(() => parseAblationRows('baseline,full')).toThrow(
      /--rows: unknown row 'full' \(known: baseline, cvm,/,
    );
    expect(() => parseAblationRows('cvm')).toThrow(/--rows: include 'baseline'/);
  });

  const tmp = mkdtempSync(join(tmpdir(), 'cvm-ablation-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('`ablation` trains every row (2 seeds for baseline and CvM), writes ablation.md/.json, reuses finished runs', async () => {
    const args = ['ablation', '--preset', 'tiny', '--backend', 'cpu', '--steps', '1', '--seeds', '0,1'];
    const first = await cli([...args, '--run-dir', tmp]);
    expect(first.stderr).not.toMatch(/error/);
    expect(first.code).toBe(0);
    const json = JSON.parse(readFileSync(join(tmp, 'ablation.json'), 'utf8'));
    expect(json.rows.map((r: { variant: string }) => r.variant)).toEqual(ABLATION_VARIANTS.map((v) => v.key));
    expect(json.runs).toHaveLength(8);
    for (const r of json.rows)
      expect(r.seeds).toEqual(r.variant === 'baseline' || r.variant === 'cvm' ? [0, 1] : [0]);
    const md = readFileSync(join(tmp, 'ablation.md'), 'utf8');
    for (const v of ABLATION_VARIANTS) expect(md).toContain(v.label);
    expect(first.stdout).toContain('ΔMTL ↑');
    expect(existsSync(join(tmp, 'multiview-data-seed0', 'report.html'))).toBe(true);
    const again = await cli([...args, '--run-dir', tmp]);
    expect(again.code).toBe(0);
    expect(again.stdout.match(/finished earlier/g)).toHaveLength(8);
    expect(readFileSync(join(tmp, 'ablation.md'), 'utf8')).toBe(md);
    // Other flags in the same directory: an error, not a reuse of runs configured otherwise.
    const other = await cli([...args, '--run-dir', tmp, '--baseline-scale', '2']);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(
      /baseline-seed0' holds a run with another configuration \(baselineScale 1 there, 2 now\): pick another --run-dir/,
    );
    const range = await cli([...args, '--run-dir', tmp, '--depth-range', '1,6']);
    expect(range.code).toBe(1);
    expect(range.stderr).toContain('(depthRange [0.5,10] there, [1,6] now): pick another --run-dir');
    const some = await cli([...args, '--run-dir', tmp, '--rows', 'baseline,cvm']);
    expect(some.code).toBe(0);
    expect(some.stdout.match(/finished earlier/g)).toHaveLength(4);
    const rows = JSON.parse(readFileSync(join(tmp, 'ablation.json'), 'utf8')).rows;
    expect(rows.map((r: { variant: string }) => r.variant)).toEqual(['baseline', 'cvm']);
  });
});
