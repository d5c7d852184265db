import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULTS, OPTIONS, readConfigFile } from '../src/config.js';

describe('--checkpoint-activations', () => {
  it('is off by default and reads on/off from flags and booleans from config files', () => {
    expect(DEFAULTS.checkpointActivations).toBe(false);
    const spec = OPTIONS.find((o) => o.flag === 'checkpoint-activations');
    expect(spec?.parse('on', 'checkpoint-activations')).toBe(true);
    expect(spec?.parse('off', 'checkpoint-activations')).toBe(false);
    expect(() => spec?.parse('yes', 'checkpoint-activations')).toThrow(/expected on or off, got 'yes'/);
    const file = join(mkdtempSync(join(tmpdir(), 'cvm-train-ckpt-')), 'c.json');
    writeFileSync(file, JSON.stringify({ checkpointActivations: true }));
    expect(readConfigFile(file)).toEqual({ checkpointActivations: true });
  });
});
