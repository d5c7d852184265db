import { nyud40Id } from '../classes.js';
import type { Rng } from '../random.js';
import {
  type Mat3,
  type Vec3,
  IDENTITY3,
  add,
  matMul,
  matVec,
  norm,
  rotationFromYAxis,
  rotationX,
  rotationZ,
  scale,
  sub,
} from './math3.js';
import type { Primitive } from './primitives.js';

/** PASCAL part ids (see `PASCAL_PART_CLASSES`). */
const HEAD = 1;
const TORSO = 2;
const UPPER_ARM = 3;
const LOWER_ARM = 4;
const UPPER_LEG = 5;
const LOWER_LEG = 6;

export interface PersonMaterials {
  skin: number;
  shirt: number;
  trousers: number;
  shoes: number;
}

const deg = Math.PI / 180;

/**
 * An articulated person-like figure in its own frame (feet on y = 0, facing +z, height ≈ `height`
 * metres): head, neck and torso, upper / lower arms with hands, upper / lower legs with feet, posed
 * with random shoulder, elbow, hip and knee angles. Part ids follow PASCAL's 6-part grouping.
 */
export function buildPerson(
  rng: Rng,
  height: number,
  materials: PersonMaterials,
  instance: number,
): Primitive[] {
  const s = height / 1.75;
  const prims: Primitive[] = [];
  const person = nyud40Id('person');
  const push = (
    kind: Primitive['kind'],
    center: Vec3,
    rotation: Mat3,
    size: Vec3,
    part: number,
    material: number,
  ) =>
    prims.push({ kind, center, rotation, size, semantic: person, part, salient: true, material, instance });
  const limb = (a: Vec3, b: Vec3, radius: number, part: number, material: number) => {
    const axis = sub(b, a);
    push(
      'capsule',
      scale(add(a, b), 0.5),
      rotationFromYAxis(axis),
      [radius, norm(axis) / 2, 0],
      part,
      material,
    );
  };

  const lean = rotationX(rng.uniform(-6, 6) * deg);
  const torsoCenter: Vec3 = [0, 1.17 * s, 0];
  push('box', torsoCenter, lean, [0.17 * s, 0.24 * s, 0.1 * s], TORSO, materials.shirt);
  push('box', [0, 0.93 * s, 0], IDENTITY3, [0.15 * s, 0.07 * s, 0.095 * s], TORSO, materials.trousers);
  const neckBase = add(torsoCenter, matVec(lean, [0, 0.24 * s, 0]));
  const neckTop = add(neckBase, matVec(lean, [0, 0.1 * s, 0]));
  limb(neckBase, neckTop, 0.05 * s, TORSO, materials.skin);
  push(
    'sphere',
    add(neckTop, matVec(lean, [0, 0.09 * s, 0.01 * s])),
    IDENTITY3,
    [0.105 * s, 0, 0],
    HEAD,
    materials.skin,
  );

  for (const side of [-1, 1]) {
    // Arm: abduction (outwards, about z), flexion (forwards, about x), elbow bend in the same plane.
    const shoulder = add(torsoCenter, matVec(lean, [side * 0.215 * s, 0.2 * s, 0]));
    const abduction = rotationZ(side * rng.uniform(6, 40) * deg);
    const flexion = rng.uniform(-30, 70) * deg;
    const elbowBend = rng.uniform(0, 100) * deg;
    const upperDir = matVec(matMul(abduction, rotationX(-flexion)), [0, -1, 0]);
    const lowerDir = matVec(matMul(abduction, rotationX(-(flexion + elbowBend))), [0, -1, 0]);
    const elbow = add(shoulder, scale(upperDir, 0.29 * s));
    const wrist = add(elbow, scale(lowerDir, 0.25 * s));
    limb(shoulder, elbow, 0.048 * s, UPPER_ARM, materials.shirt);
    limb(elbow, wrist, 0.04 * s, LOWER_ARM, materials.skin);
    push(
      'sphere',
      add(wrist, scale(lowerDir, 0.04 * s)),
      IDENTITY3,
      [0.047 * s, 0, 0],
      LOWER_ARM,
      materials.skin,
    );

    // Leg: hip flexion, knee bends backwards.
    const hip: Vec3 = [side * 0.09 * s, 0.9 * s, 0];
    const legAbduction = rotationZ(side * rng.uniform(0, 10) * deg);
    const hipFlexion = rng.uniform(-20, 35) * deg;
    const knee = Math.min(hipFlexion + 20 * deg, rng.uniform(0, 50) * deg);
    const thighDir = matVec(matMul(legAbduction, rotationX(-hipFlexion)), [0, -1, 0]);
    const shinDir = matVec(matMul(legAbduction, rotationX(-(hipFlexion - knee))), [0, -1, 0]);
    const kneePoint = add(hip, scale(thighDir, 0.43 * s));
    const ankle = add(kneePoint, scale(shinDir, 0.42 * s));
    limb(hip, kneePoint, 0.07 * s, UPPER_LEG, materials.trousers);
    limb(kneePoint, ankle, 0.05 * s, LOWER_LEG, materials.trousers);
    push(
      'box',
      add(ankle, [0, -0.02 * s, 0.06 * s]),
      IDENTITY3,
      [0.045 * s, 0.035 * s, 0.11 * s],
      LOWER_LEG,
      materials.shoes,
    );
  }

  // Put the lowest foot on the floor.
  let minY = Number.POSITIVE_INFINITY;
  for (const p of prims)
    if (p.kind === 'box' && p.part === LOWER_LEG) minY = Math.min(minY, p.center[1] - p.size[1]);
  for (const p of prims) p.center = [p.center[0], p.center[1] - minY, p.center[2]];
  return prims;
}
