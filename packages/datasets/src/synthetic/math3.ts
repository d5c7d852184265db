/** Tiny 3-vector / 3×3 helpers for scene construction (not used per pixel). Matrices are row-major. */

export type Vec3 = [number, number, number];
/** Row-major 3×3 rotation, world-from-local: column j is local axis j in world coordinates. */
export type Mat3 = [number, number, number, number, number, number, number, number, number];

export const IDENTITY3: Mat3 = [1, 0, 0, 0, 1, 0, 0, 0, 1];

export function sub(a: Vec3, b: Vec3): Vec3 {
  return [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
}

export function add(a: Vec3, b: Vec3): Vec3 {
  return [a[0] + b[0], a[1] + b[1], a[2] + b[2]];
}

export function scale(a: Vec3, s: number): Vec3 {
  return [a[0] * s, a[1] * s, a[2] * s];
}

export function dot(a: Vec3, b: Vec3): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

export function cross(a: Vec3, b: Vec3): Vec3 {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

export function norm(a: Vec3): number {
  return Math.sqrt(dot(a, a));
}

export function normalize(a: Vec3): Vec3 {
  return scale(a, 1 / norm(a));
}

export function matMul(a: Mat3, b: Mat3): Mat3 {
  const out = new Array(9).fill(0) as Mat3;
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++)
      out[i * 3 + j] = a[i * 3] * b[j] + a[i * 3 + 1] * b[3 + j] + a[i * 3 + 2] * b[6 + j];
  return out;
}

export function matVec(m: Mat3, v: Vec3): Vec3 {
  return [
    m[0] * v[0] + m[1] * v[1] + m[2] * v[2],
    m[3] * v[0] + m[4] * v[1] + m[5] * v[2],
    m[6] * v[0] + m[7] * v[1] + m[8] * v[2],
  ];
}

/** Rotation about the world +y (up) axis by `angle` radians. */
export function rotationY(angle: number): Mat3 {
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  return [c, 0, s, 0, 1, 0, -s, 0, c];
}

/** Rotation about +z by `angle` radians. */
export function rotationZ(angle: number): Mat3 {
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  return [c, -s, 0, s, c, 0, 0, 0, 1];
}

/** Rotation about +x by `angle` radians. */
export function rotationX(angle: number): Mat3 {
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  return [1, 0, 0, 0, c, -s, 0, s, c];
}

/** A right-handed rotation whose local +y axis is the unit vector `axis` (for limbs, cylinders). */
export function rotationFromYAxis(axis: Vec3): Mat3 {
  const ey = normalize(axis);
  const helper: Vec3 = Math.abs(ey[0]) < 0.9 ? [1, 0, 0] : [0, 0, 1];
  const ez = normalize(cross(helper, ey));
  const ex = cross(ey, ez);
  return [ex[0], ey[0], ez[0], ex[1], ey[1], ez[1], ex[2], ey[2], ez[2]];
}

/**
 * OpenCV camera-to-world rotation (columns: right, down, forward) looking along `forward` in a y-up
 * world, rolled by `roll` radians about the viewing axis.
 */
export function cameraRotation(forward: Vec3, roll: number): Mat3 {
  const z = normalize(forward);
  const x0 = normalize(cross([0, -1, 0], z));
  const y0 = cross(z, x0);
  const c = Math.cos(roll);
  const s = Math.sin(roll);
  const x = add(scale(x0, c), scale(y0, s));
  const y = add(scale(x0, -s), scale(y0, c));
  return [x[0], y[0], z[0], x[1], y[1], z[1], x[2], y[2], z[2]];
}
