import { describe, expect, it } from 'vitest';
import { colorizeTask, depthColor, vocPalette } from '../src/index.js';

describe('colour maps', () => {
  it('class palette (VOC, class k in colour k+1), ignore black', () => {
    const rgb = colorizeTask('semseg', Int32Array.of(0, 14, 255), 3);
    expect(Array.from(rgb)).toEqual([...vocPalette()[1], ...vocPalette()[15], 0, 0, 0]);
    expect(vocPalette()[15]).toEqual([192, 128, 128]);
  });

  it('depth: Turbo from near (red end) to far (blue end), invalid black; its published endpoints', () => {
    // The polynomial's constant terms (0.13572, 0.09140, 0.10667) at 0; blue, then green, then red
    // dominate along the map, as in Turbo's table.
    expect(depthColor(0)).toEqual([35, 23, 27]);
    expect(depthColor(-1)).toEqual(depthColor(0));
    const argmax = (c: number[]) => c.indexOf(Math.max(...c));
    expect(argmax(depthColor(0.15))).toBe(2);
    expect(argmax(depthColor(0.5))).toBe(1);
    expect(argmax(depthColor(0.9))).toBe(0);
    const rgb = colorizeTask('depth', Float32Array.of(0, 10, 5), 3, { depthMax: 10 });
    expect(Array.from(rgb.subarray(0, 3))).toEqual([0, 0, 0]);
    expect(Array.from(rgb.subarray(3, 6))).toEqual(depthColor(0));
    expect(Array.from(rgb.subarray(6, 9))).toEqual(depthColor(0.5));
    expect(() => colorizeTask('depth', Float32Array.of(1), 1, { depthMax: 0 })).toThrow(
      /depthMax must be positive/,
    );
  });

  it('normals as (n+1)/2, boundaries / saliency as grey with ignore mid-grey, and a clear error on short input', () => {
    expect(Array.from(colorizeTask('normals', Float32Array.of(0, 0, -1), 1))).toEqual([128, 128, 0]);
    expect(Array.from(colorizeTask('edge', Float32Array.of(1, 0.5, 255), 3))).toEqual([
      255, 255, 255, 128, 128, 128, 128, 128, 128,
    ]);
    expect(() => colorizeTask('normals', Float32Array.of(0, 0, 1), 2)).toThrow(
      /normals needs 6 values for 2 pixels, got 3/,
    );
  });
});
