import { describe, expect, it } from 'vitest';
import { formatRate } from '../src/progress.js';
import { runThroughput } from '../src/run.js';

describe('formatRate', () => {
  it('keeps one decimal from 1 up, and three significant digits below (a step of minutes is not 0.0)', () => {
    expect(formatRate(10.04)).toBe('10.0');
    expect(formatRate(1)).toBe('1.0');
    expect(formatRate(0.41)).toBe('0.410');
    expect(formatRate(1 / 1013)).toBe('0.000987');
    expect(formatRate(0)).toBe('0.0');
  });
});

describe('runThroughput', () => {
  it('measures after the warm-up step, and a one-step run by its only step', () => {
    expect(runThroughput({ steps: 3, seconds: 1.5, firstStepSeconds: 10 }, 4)).toEqual({
      stepsPerSecond: 2,
      samplesPerSecond: 8,
    });
    const one = runThroughput({ steps: 0, seconds: 0, firstStepSeconds: 1095 }, 1);
    expect(one.stepsPerSecond).toBeCloseTo(1 / 1095, 12);
    expect(runThroughput({ steps: 0, seconds: 0, firstStepSeconds: 0 }, 4)).toEqual({
      stepsPerSecond: 0,
      samplesPerSecond: 0,
    });
  });
});
