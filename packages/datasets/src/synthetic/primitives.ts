import type { Mat3, Vec3 } from './math3.js';

/**
 * The shapes the world is built from. Each is canonical in its own frame (centred at the origin;
 * cylinders and capsules along local +y) and placed by a rotation + centre, so ray casting transforms
 * the ray once per view and primitive and intersects analytically.
 */
export const PrimitiveKind = { box: 0, sphere: 1, cylinder: 2, capsule: 3 } as const;
export type PrimitiveKindName = keyof typeof PrimitiveKind;

export interface Primitive {
  kind: PrimitiveKindName;
  /** Centre in world coordinates (metres; world is y-up, floor at y = 0). */
  center: Vec3;
  /** World-from-local rotation, row-major. */
  rotation: Mat3;
  /** box: half extents; sphere: [radius, 0, 0]; cylinder / capsule: [radius, half length, 0]. */
  size: Vec3;
  /** NYUD-40 class id (0-based). */
  semantic: number;
  /** PASCAL human part id (0 = background). */
  part: number;
  /** Part of the saliency mask. */
  salient: boolean;
  /** Index into the scene's materials. */
  material: number;
  /** Object instance id (1-based; all primitives of one object share it). */
  instance: number;
}

/** Floats per packed primitive. Layout: kind, semantic, part, salient, material, instance, R[9], c[3], size[3], bound radius. */
export const PRIMITIVE_STRIDE = 22;

/** Radius of a sphere around the primitive's centre that contains it. */
export function boundingRadius(p: Primitive): number {
  const [a, b, c] = p.size;
  switch (p.kind) {
    case 'box':
      return Math.sqrt(a * a + b * b + c * c);
    case 'sphere':
      return a;
    case 'cylinder':
      return Math.sqrt(a * a + b * b);
    case 'capsule':
      return a + b;
  }
}

/** Packs primitives into one Float64Array for the renderer. */
export function packPrimitives(primitives: readonly Primitive[]): Float64Array {
  const out = new Float64Array(primitives.length * PRIMITIVE_STRIDE);
  primitives.forEach((p, i) => {
    const o = i * PRIMITIVE_STRIDE;
    out[o] = PrimitiveKind[p.kind];
    out[o + 1] = p.semantic;
    out[o + 2] = p.part;
    out[o + 3] = p.salient ? 1 : 0;
    out[o + 4] = p.material;
    out[o + 5] = p.instance;
    out.set(p.rotation, o + 6);
    out.set(p.center, o + 15);
    out.set(p.size, o + 18);
    out[o + 21] = boundingRadius(p);
  });
  return out;
}
