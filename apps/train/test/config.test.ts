import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IMAGENET_MEAN } from '@cvm/nn';
import { describe, expect, it } from 'vitest';
import { DEFAULTS, helpText, OPTIONS, PRESETS, readConfigFile, resolveConfig } from '../src/config.js';
import { pipeline } from '../src/data.js';

describe('configuration', () => {
  it('resolves DEFAULTS <- preset <- config file <- flags', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cvm-train-config-'));
    const file = join(dir, 'c.json');
    writeFileSync(
      file,
      JSON.stringify({ steps: 7, batch: 3, 'eval-every': 5, size: [32, 64], encoderLayers: null }),
    );
    const fromFile = readConfigFile(file);
    expect(fromFile).toEqual({ steps: 7, batch: 3, evalEvery: 5, size: [32, 64], encoderLayers: null });
    const c = resolveConfig('tiny', fromFile, { batch: 2 });
    expect(c.batch).toBe(2); // flag over file
    expect(c.steps).toBe(7); // file over preset (tiny: 4)
    expect(c.cvmSize).toBe('tiny'); // preset over defaults
    expect(c.lr).toBe(DEFAULTS.lr); // defaults
  });

  it('rejects unknown keys, bad values and unknown presets with the name of the culprit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cvm-train-config-'));
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ stepz: 7 }));
    expect(() => readConfigFile(file)).toThrow(/unknown key 'stepz'/);
    writeFileSync(file, JSON.stringify({ steps: -1 }));
    expect(() => readConfigFile(file)).toThrow(/--steps: expected an integer >= 1, got '-1'/);
    expect(() => readConfigFile(join(dir, 'missing.json'))).toThrow(/no such file/);
    expect(() => resolveConfig('nope', {}, {})).toThrow(/unknown preset 'nope'/);
    expect(() => resolveConfig('default', {}, { encoder: 'vit_huge' })).toThrow(/unknown encoder 'vit_huge'/);
    expect(() => resolveConfig('default', {}, { dataset: 'nyud' })).toThrow(/needs --data-root/);
    expect(() => resolveConfig('default', {}, { tasks: ['sal'] })).toThrow(/'sal' is not a synthetic task/);
  });

  it("the paper presets are the protocol's numbers", () => {
    const root = mkdtempSync(join(tmpdir(), 'cvm-train-data-'));
    for (const [name, size, views] of [
      ['paper-nyud', [448, 576], 2],
      ['paper-pascal', [512, 512], 1],
    ] as const) {
      const c = resolveConfig(name, {}, { dataRoot: root });
      expect(c).toMatchObject({
        lr: 2e-5,
        weightDecay: 1e-6,
        lrPower: 0.9,
        gradClip: 10,
        batch: 4,
        steps: 40_000,
        size,
        views,
        encoder: 'dinov3_vitl16',
        encoderDim: null,
        encoderLayers: [5, 12, 18, 24],
        augment: 'protocol',
        padColor: 'imagenet',
        cvmSize: 'paper',
      });
      const p = pipeline(c, true);
      expect(p.padColor).toEqual([...IMAGENET_MEAN]);
      expect(p.scale).toBeUndefined(); // the datasets package's protocol defaults: scale 0.5–2, crop, flip, photometric
    }
  });

  it('--baseline-scale: default 1, a finite positive number, synthetic world only', () => {
    expect(DEFAULTS.baselineScale).toBe(1);
    const dir = mkdtempSync(join(tmpdir(), 'cvm-train-config-'));
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ 'baseline-scale': 6 }));
    expect(readConfigFile(file)).toEqual({ baselineScale: 6 });
    // config.json of a run (camelCase keys) reads back the same value
    writeFileSync(file, JSON.stringify(resolveConfig('tiny', {}, { baselineScale: 2.5 })));
    expect(resolveConfig('default', readConfigFile(file), {}).baselineScale).toBe(2.5);
    const spec = OPTIONS.find((o) => o.flag === 'baseline-scale');
    expect(spec?.key).toBe('baselineScale');
    expect(spec?.parse('0.5', 'baseline-scale')).toBe(0.5);
    for (const bad of ['0', '-2', 'NaN', 'Infinity', 'wide', ''])
      expect(() => spec?.parse(bad, 'baseline-scale')).toThrow(
        `--baseline-scale: expected a positive number, got '${bad}'`,
      );
    const root = mkdtempSync(join(tmpdir(), 'cvm-train-data-'));
    for (const dataset of ['nyud', 'pascal'] as const)
      expect(() =>
        resolveConfig('default', {}, { dataset, dataRoot: root, views: 1, baselineScale: 2 }),
      ).toThrow(
        `--baseline-scale moves the synthetic world's cameras: it has no meaning for --dataset ${dataset}`,
      );
    expect(resolveConfig('default', {}, { dataset: 'nyud', dataRoot: root }).baselineScale).toBe(1);
    expect(helpText()).toMatch(/--baseline-scale +synthetic world: .*\[1\]/);
  });

  it('--help names every option with its default', () => {
    const help = helpText();
    for (const o of OPTIONS) expect(help).toContain(`--${o.flag}`);
    for (const p of Object.keys(PRESETS)) expect(help).toContain(p);
  });
});
