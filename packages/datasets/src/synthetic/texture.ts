import { hash3 } from '../random.js';

/**
 * Procedural solid textures. They are functions of the 3-D point in the object's own frame (or the
 * world frame for the room), never of the image, so a surface point has the same albedo in every view:
 * that is what makes cross-view matching (and the multi-view consistency test) work.
 */

export const TextureKind = { noise: 0, stripes: 1, checker: 2, wood: 3 } as const;
export type TextureKindName = keyof typeof TextureKind;

/** A material: two colours blended by a pattern, at `frequency` cycles per metre. */
export interface Material {
  kind: TextureKindName;
  colorA: [number, number, number];
  colorB: [number, number, number];
  /** Pattern frequency in cycles per metre. */
  frequency: number;
  /** Unit axis of stripes / of the wood grain's growth axis, in the object frame. */
  axis: [number, number, number];
  seed: number;
}

/** Floats per packed material. */
export const MATERIAL_STRIDE = 12;

/** Packs materials into one Float64Array for the renderer. */
export function packMaterials(materials: readonly Material[]): Float64Array {
  const out = new Float64Array(materials.length * MATERIAL_STRIDE);
  materials.forEach((m, i) => {
    const o = i * MATERIAL_STRIDE;
    out[o] = TextureKind[m.kind];
    out.set(m.colorA, o + 1);
    out.set(m.colorB, o + 4);
    out[o + 7] = m.frequency;
    out.set(m.axis, o + 8);
    out[o + 11] = m.seed;
  });
  return out;
}

function fade(t: number): number {
  return t * t * (3 - 2 * t);
}

/** Trilinear value noise in [0, 1) on the integer lattice, smooth-stepped. */
export function valueNoise(x: number, y: number, z: number, seed: number): number {
  const fx = Math.floor(x);
  const fy = Math.floor(y);
  const fz = Math.floor(z);
  const tx = fade(x - fx);
  const ty = fade(y - fy);
  const tz = fade(z - fz);
  const ix = fx | 0;
  const iy = fy | 0;
  const iz = fz | 0;
  const c000 = hash3(ix, iy, iz, seed);
  const c100 = hash3(ix + 1, iy, iz, seed);
  const c010 = hash3(ix, iy + 1, iz, seed);
  const c110 = hash3(ix + 1, iy + 1, iz, seed);
  const c001 = hash3(ix, iy, iz + 1, seed);
  const c101 = hash3(ix + 1, iy, iz + 1, seed);
  const c011 = hash3(ix, iy + 1, iz + 1, seed);
  const c111 = hash3(ix + 1, iy + 1, iz + 1, seed);
  const x00 = c000 + (c100 - c000) * tx;
  const x10 = c010 + (c110 - c010) * tx;
  const x01 = c001 + (c101 - c001) * tx;
  const x11 = c011 + (c111 - c011) * tx;
  const y0 = x00 + (x10 - x00) * ty;
  const y1 = x01 + (x11 - x01) * ty;
  return y0 + (y1 - y0) * tz;
}

/** Two-octave fractal noise in [0, 1). */
function fbm(x: number, y: number, z: number, seed: number): number {
  return (2 * valueNoise(x, y, z, seed) + valueNoise(2.03 * x, 2.03 * y, 2.03 * z, seed ^ 0x5bd1e995)) / 3;
}

/** Fine detail frequency (cycles per metre) modulating every material, so matching has signal. */
const DETAIL_FREQUENCY = 9;

/**
 * Albedo of material `index` of the packed `materials` at object-frame point (x, y, z), written to
 * `out[0..2]` (no allocation: called per ray).
 */
export function albedo(
  materials: Float64Array,
  index: number,
  x: number,
  y: number,
  z: number,
  out: Float64Array,
): void {
  const o = index * MATERIAL_STRIDE;
  const kind = materials[o];
  const f = materials[o + 7];
  const seed = materials[o + 11] | 0;
  let t: number;
  if (kind === 0) {
    t = fbm(x * f, y * f, z * f, seed);
    t = Math.min(1, Math.max(0, (t - 0.5) * 2.2 + 0.5));
  } else if (kind === 1) {
    const s = (x * materials[o + 8] + y * materials[o + 9] + z * materials[o + 10]) * f;
    t = 0.5 + 0.5 * Math.sin(2 * Math.PI * (s + 0.35 * fbm(x * 2, y * 2, z * 2, seed)));
  } else if (kind === 2) {
    // Offsets keep the cell borders off the axis-aligned faces, where floor() would flicker.
    const cell = Math.floor(x * f + 0.137) + Math.floor(y * f + 0.271) + Math.floor(z * f + 0.419);
    t = (cell & 1) === 0 ? 0 : 1;
  } else {
    const ax = materials[o + 8];
    const ay = materials[o + 9];
    const az = materials[o + 10];
    const along = x * ax + y * ay + z * az;
    const qx = x - along * ax + 0.31;
    const qy = y - along * ay + 0.17;
    const qz = z - along * az + 0.23;
    const r = Math.sqrt(qx * qx + qy * qy + qz * qz) * f + 1.2 * fbm(x * 1.5, y * 1.5, z * 1.5, seed);
    const ring = 0.5 + 0.5 * Math.sin(2 * Math.PI * r);
    t = ring * ring * ring;
  }
  const detail =
    0.82 +
    0.36 * valueNoise(x * DETAIL_FREQUENCY, y * DETAIL_FREQUENCY, z * DETAIL_FREQUENCY, seed ^ 0x1234567);
  out[0] = (materials[o + 1] + (materials[o + 4] - materials[o + 1]) * t) * detail;
  out[1] = (materials[o + 2] + (materials[o + 5] - materials[o + 2]) * t) * detail;
  out[2] = (materials[o + 3] + (materials[o + 6] - materials[o + 3]) * t) * detail;
}
