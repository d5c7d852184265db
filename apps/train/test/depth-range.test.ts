import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inverseDepthCandidatesData } from '@cvm/geometry';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  DEFAULTS,
  helpText,
  OPTIONS,
  PRESETS,
  readConfigFile,
  resolveConfig,
  type TrainConfig,
} from '../src/config.js';
import { buildModel, cvmConfig } from '../src/model.js';

const spec = OPTIONS.find((o) => o.flag === 'depth-range');

/** The candidates of the CvM the app builds for `config` (its model-building path), then disposes it. */
async function builtCandidates(config: TrainConfig): Promise<Float32Array> {
  const model = await buildModel(config);
  try {
    if (!model.cvm) throw new Error('the model has no CvM');
    return model.cvm.candidates;
  } finally {
    model.dispose();
  }
}

describe('--depth-range', () => {
  it('defaults to 0.5–10 m, is listed in --help, and reads near,far from flags and config files', () => {
    expect(DEFAULTS.depthRange).toEqual([0.5, 10]);
    expect(spec?.key).toBe('depthRange');
    expect(spec?.parse('1,6', 'depth-range')).toEqual([1, 6]);
    expect(spec?.parse('0.25, 12.5', 'depth-range')).toEqual([0.25, 12.5]);
    expect(helpText()).toMatch(/--depth-range +near,far \(metres\).*\[0\.5,10\]/);
    const file = join(mkdtempSync(join(tmpdir(), 'cvm-train-depth-')), 'c.json');
    writeFileSync(file, JSON.stringify({ 'depth-range': [1, 6] }));
    expect(readConfigFile(file)).toEqual({ depthRange: [1, 6] });
    // a run's config.json (camelCase keys) reads back the same range
    writeFileSync(file, JSON.stringify(resolveConfig('tiny', {}, { depthRange: [1.5, 7] })));
    expect(resolveConfig('default', readConfigFile(file), {}).depthRange).toEqual([1.5, 7]);
  });

  it('rejects a malformed or impossible range, naming the problem', () => {
    const bad: [string, string][] = [
      ['1', "expected <near>,<far> in metres (e.g. 0.5,10), got '1'"],
      ['1,2,3', "expected <near>,<far> in metres (e.g. 0.5,10), got '1,2,3'"],
      ['6,1', "near (6) must be < far (1) (from '6,1')"],
      ['2,2', "near (2) must be < far (2) (from '2,2')"],
      ['0,6', "near: must be a finite number > 0, got 0 (from '0,6')"],
      ['-1,6', "near: must be a finite number > 0, got -1 (from '-1,6')"],
      ['near,6', "near: must be a finite number > 0, got NaN (from 'near,6')"],
      [',6', "near: must be a finite number > 0, got NaN (from ',6')"],
      ['1,Infinity', "far: must be finite, got Infinity (from '1,Infinity')"],
      ['1,', "far: must be finite, got NaN (from '1,')"],
    ];
    for (const [raw, message] of bad)
      expect(() => spec?.parse(raw, 'depth-range')).toThrow(`--depth-range: ${message}`);
    const file = join(mkdtempSync(join(tmpdir(), 'cvm-train-depth-')), 'c.json');
    writeFileSync(file, JSON.stringify({ depthRange: [6, 1] }));
    expect(() => readConfigFile(file)).toThrow("--depth-range: near (6) must be < far (1) (from '6,1')");
    writeFileSync(file, JSON.stringify({ depthRange: null }));
    expect(() => readConfigFile(file)).toThrow("'depthRange' cannot be null");
  });

  it('the paper presets name their range: UniMatch’s indoor 0.5–10 m', () => {
    expect(PRESETS['paper-nyud'].values.depthRange).toEqual([0.5, 10]);
    const root = mkdtempSync(join(tmpdir(), 'cvm-train-data-'));
    const c = resolveConfig('paper-nyud', {}, { dataRoot: root });
    // the paper CvM size keeps its L = 128 and takes the configured range
    expect(cvmConfig(c).depthRange).toEqual({ near: 0.5, far: 10, count: 128 });
    expect(cvmConfig({ ...c, depthRange: [1e-4, 10] }).depthRange).toEqual({
      near: 1e-4,
      far: 10,
      count: 128,
    });
  });

  it("the built model's candidates are the configured range (with the size's L or --depth-candidates)", async () => {
    const before = tf.memory().numTensors;
    const tiny = resolveConfig('tiny', {}, { depthRange: [1, 6] });
    expect(await builtCandidates(tiny)).toEqual(Float32Array.from(inverseDepthCandidatesData(1, 6, 8)));
    expect(await builtCandidates({ ...tiny, depthCandidates: 5 })).toEqual(
      Float32Array.from(inverseDepthCandidatesData(1, 6, 5)),
    );
    // the default range, as before the option existed
    expect(await builtCandidates(resolveConfig('tiny', {}, {}))).toEqual(
      Float32Array.from(inverseDepthCandidatesData(0.5, 10, 8)),
    );
    // eval / predict build from a checkpoint's raw config.json: its range, or the default for one saved
    // before the option existed
    const saved = JSON.parse(JSON.stringify(tiny)) as TrainConfig;
    expect(await builtCandidates(saved)).toEqual(Float32Array.from(inverseDepthCandidatesData(1, 6, 8)));
    const { depthRange: _, ...old } = saved;
    expect(await builtCandidates(old as TrainConfig)).toEqual(
      Float32Array.from(inverseDepthCandidatesData(0.5, 10, 8)),
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});
