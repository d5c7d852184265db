import { describe, expect, it } from 'vitest';
import { formatRate } from '../src/progress.js';

describe('formatRate', () => {
  it('keeps one decimal from 1 up, and three significant digits below (a step of minutes is not 0.0)', () => {
    expect(formatRate(10.04)).toBe('10.0');
    expect(formatRate(1)).toBe('1.0');
    expect(formatRate(0.41)).toBe('0.410');
    expect(formatRate(1 / 1013)).toBe('0.000987');
    expect(formatRate(0)).toBe('0.0');
  });
});
