/** Row-major 3x3 and 4x4 helpers in float64, for camera math done once per batch on the CPU. */

export type Mat = Float64Array;

export function mul3(a: ArrayLike<number>, b: ArrayLike<number>): Mat {
  const out = new Float64Array(9);
  for (let r = 0; r < 3; r++)
    for (let c = 0; c < 3; c++)
      out[r * 3 + c] = a[r * 3] * b[c] + a[r * 3 + 1] * b[3 + c] + a[r * 3 + 2] * b[6 + c];
  return out;
}

export function mul3v(a: ArrayLike<number>, v: ArrayLike<number>): Mat {
  const out = new Float64Array(3);
  for (let r = 0; r < 3; r++) out[r] = a[r * 3] * v[0] + a[r * 3 + 1] * v[1] + a[r * 3 + 2] * v[2];
  return out;
}

export function mul4(a: ArrayLike<number>, b: ArrayLike<number>): Mat {
  const out = new Float64Array(16);
  for (let r = 0; r < 4; r++)
    for (let c = 0; c < 4; c++) {
      let s = 0;
      for (let k = 0; k < 4; k++) s += a[r * 4 + k] * b[k * 4 + c];
      out[r * 4 + c] = s;
    }
  return out;
}

/** Rotation (3x3) and translation (3) of a rigid 4x4 transform. */
export function splitPose(t: ArrayLike<number>): { r: Mat; t: Mat } {
  return {
    r: Float64Array.of(t[0], t[1], t[2], t[4], t[5], t[6], t[8], t[9], t[10]),
    t: Float64Array.of(t[3], t[7], t[11]),
  };
}

/** Determinant of a 3x3. */
export function det3(m: ArrayLike<number>): number {
  return (
    m[0] * (m[4] * m[8] - m[5] * m[7]) -
    m[1] * (m[3] * m[8] - m[5] * m[6]) +
    m[2] * (m[3] * m[7] - m[4] * m[6])
  );
}
