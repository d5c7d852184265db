import { type Nyud40ClassName, nyud40Id } from '../classes.js';
import { Rng } from '../random.js';
import {
  type Mat3,
  type Vec3,
  IDENTITY3,
  add,
  cameraRotation,
  matMul,
  matVec,
  normalize,
  rotationY,
  sub,
} from './math3.js';
import { buildPerson } from './person.js';
import type { Primitive } from './primitives.js';
import type { Material, TextureKindName } from './texture.js';

/**
 * Procedural indoor scenes: a box room (floor, ceiling, four walls) with doors / windows / pictures on
 * the walls, furniture built from boxes, cylinders and spheres, an articulated person, one or two point
 * lights, and a handheld-video camera clip.
 *
 * World frame: y up, floor at y = 0, room spans [0, Lx] × [0, Ly] × [0, Lz]. The camera moves in the
 * band z < 1.5 m and looks towards +z; furniture stands at z ≥ 1.7 m, so no camera is ever inside an object.
 */

export interface PointLight {
  position: Vec3;
  intensity: number;
}

/** Room faces, in this order: x = 0, x = Lx, y = 0 (floor), y = Ly (ceiling), z = 0, z = Lz. */
export interface Room {
  size: Vec3;
  /** Material index per face. */
  faceMaterials: [number, number, number, number, number, number];
}

/** One frame of the camera clip: OpenCV camera-to-world rotation (row-major) and centre. */
export interface ClipFrame {
  /** Frame offset from the reference frame (0) within the clip. */
  offset: number;
  rotation: Mat3;
  position: Vec3;
}

export interface SceneDescription {
  seed: number;
  room: Room;
  primitives: Primitive[];
  materials: Material[];
  lights: PointLight[];
  ambient: number;
  hasPerson: boolean;
  /** Frames of the clip, offsets -CLIP_HALF_LENGTH..CLIP_HALF_LENGTH; the reference is offset 0. */
  clip: ClipFrame[];
}

/** The clip spans offsets -3..3: so at most 7 views per sample. */
export const CLIP_HALF_LENGTH = 3;

export interface SceneOptions {
  /** Probability that the scene contains the person figure (default 1). */
  personProbability?: number;
}

const FACE_SEMANTICS = [
  nyud40Id('wall'),
  nyud40Id('wall'),
  nyud40Id('floor'),
  nyud40Id('ceiling'),
  nyud40Id('wall'),
  nyud40Id('wall'),
] as const;

/** NYUD-40 class of each room face. */
export function roomFaceSemantic(face: number): number {
  return FACE_SEMANTICS[face];
}

type Rgb = [number, number, number];

function jitterColor(rng: Rng, c: Rgb, amount = 0.08): Rgb {
  return c.map((v) => Math.min(0.95, Math.max(0.04, v + rng.uniform(-amount, amount)))) as Rgb;
}

function darker(c: Rgb, f: number): Rgb {
  return [c[0] * f, c[1] * f, c[2] * f];
}

interface Footprint {
  x0: number;
  x1: number;
  z0: number;
  z1: number;
}

/** A piece of furniture in its own frame: front faces +z, footprint centred at x = z = 0, on the floor. */
interface Furniture {
  prims: Primitive[];
  width: number;
  depth: number;
  againstWall: boolean;
}

class SceneBuilder {
  readonly materials: Material[] = [];
  readonly primitives: Primitive[] = [];
  private nextInstance = 1;

  constructor(readonly rng: Rng) {}

  material(
    kind: TextureKindName,
    colorA: Rgb,
    colorB: Rgb,
    frequency: number,
    axis: Vec3 = [0, 1, 0],
  ): number {
    this.materials.push({
      kind,
      colorA,
      colorB,
      frequency,
      axis: normalize(axis),
      seed: this.rng.seed() | 0,
    });
    return this.materials.length - 1;
  }

  /** A random material of one of the four pattern kinds around base colour `c`. */
  randomMaterial(c: Rgb, kinds: TextureKindName[] = ['noise', 'stripes', 'checker', 'wood']): number {
    const rng = this.rng;
    const kind = rng.pick(kinds);
    const a = jitterColor(rng, c);
    const b = jitterColor(rng, darker(c, rng.uniform(0.45, 0.75)));
    const axes: Vec3[] = [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
      [1, 1, 0],
    ];
    const frequency =
      kind === 'checker' ? rng.uniform(2, 5) : kind === 'wood' ? rng.uniform(6, 12) : rng.uniform(2.5, 7);
    return this.material(kind, a, b, frequency, rng.pick(axes));
  }

  instance(): number {
    return this.nextInstance++;
  }
}

function box(
  center: Vec3,
  half: Vec3,
  semantic: number,
  material: number,
  instance: number,
  rotation: Mat3 = IDENTITY3,
): Primitive {
  return { kind: 'box', center, rotation, size: half, semantic, part: 0, salient: false, material, instance };
}

function cylinder(
  center: Vec3,
  radius: number,
  halfHeight: number,
  semantic: number,
  material: number,
  instance: number,
): Primitive {
  return {
    kind: 'cylinder',
    center,
    rotation: IDENTITY3,
    size: [radius, halfHeight, 0],
    semantic,
    part: 0,
    salient: false,
    material,
    instance,
  };
}

function sphere(
  center: Vec3,
  radius: number,
  semantic: number,
  material: number,
  instance: number,
): Primitive {
  return {
    kind: 'sphere',
    center,
    rotation: IDENTITY3,
    size: [radius, 0, 0],
    semantic,
    part: 0,
    salient: false,
    material,
    instance,
  };
}

const PALETTE: Record<string, Rgb> = {
  wood: [0.55, 0.36, 0.2],
  light: [0.82, 0.8, 0.74],
  fabric: [0.35, 0.42, 0.6],
  red: [0.7, 0.25, 0.2],
  green: [0.3, 0.55, 0.3],
  grey: [0.5, 0.5, 0.52],
  white: [0.88, 0.88, 0.86],
  dark: [0.18, 0.18, 0.2],
  yellow: [0.85, 0.75, 0.3],
};

type FurnitureMaker = (b: SceneBuilder) => Furniture;
const id = (name: Nyud40ClassName) => nyud40Id(name);

function legs(
  w: number,
  d: number,
  h: number,
  r: number,
  semantic: number,
  mat: number,
  inst: number,
): Primitive[] {
  const out: Primitive[] = [];
  for (const sx of [-1, 1])
    for (const sz of [-1, 1])
      out.push(
        cylinder([sx * (w / 2 - r * 1.5), h / 2, sz * (d / 2 - r * 1.5)], r, h / 2, semantic, mat, inst),
      );
  return out;
}

const FURNITURE: Record<string, FurnitureMaker> = {
  table(b) {
    const rng = b.rng;
    const w = rng.uniform(0.8, 1.5);
    const d = rng.uniform(0.6, 0.9);
    const h = rng.uniform(0.7, 0.78);
    const inst = b.instance();
    const mat = b.randomMaterial(PALETTE.wood, ['wood', 'noise']);
    const prims = [
      box([0, h - 0.02, 0], [w / 2, 0.02, d / 2], id('table'), mat, inst),
      ...legs(w, d, h - 0.04, 0.025, id('table'), mat, inst),
    ];
    if (rng.next() < 0.6) {
      const bi = b.instance();
      const bm = b.randomMaterial(rng.pick([PALETTE.red, PALETTE.green, PALETTE.yellow]), [
        'noise',
        'stripes',
      ]);
      prims.push(
        box(
          [rng.uniform(-w / 4, w / 4), h + 0.03, rng.uniform(-d / 5, d / 5)],
          [0.12, 0.03, 0.09],
          id('books'),
          bm,
          bi,
        ),
      );
    }
    return { prims, width: w, depth: d, againstWall: false };
  },
  chair(b) {
    const rng = b.rng;
    const w = rng.uniform(0.42, 0.5);
    const inst = b.instance();
    const mat = b.randomMaterial(rng.pick([PALETTE.wood, PALETTE.dark, PALETTE.red]));
    const seat = rng.uniform(0.42, 0.48);
    return {
      prims: [
        box([0, seat, 0], [w / 2, 0.025, w / 2], id('chair'), mat, inst),
        box([0, seat + 0.25, -w / 2 + 0.025], [w / 2, 0.23, 0.025], id('chair'), mat, inst),
        ...legs(w, w, seat - 0.025, 0.02, id('chair'), mat, inst),
      ],
      width: w,
      depth: w,
      againstWall: false,
    };
  },
  sofa(b) {
    const rng = b.rng;
    const w = rng.uniform(1.5, 2.1);
    const d = rng.uniform(0.8, 0.95);
    const inst = b.instance();
    const mat = b.randomMaterial(rng.pick([PALETTE.fabric, PALETTE.grey, PALETTE.green]), [
      'noise',
      'stripes',
      'checker',
    ]);
    const prims = [
      box([0, 0.22, 0.05], [w / 2, 0.22, d / 2 - 0.05], id('sofa'), mat, inst),
      box([0, 0.45, -d / 2 + 0.1], [w / 2, 0.45, 0.1], id('sofa'), mat, inst),
      box([-w / 2 + 0.1, 0.32, 0.05], [0.1, 0.32, d / 2 - 0.05], id('sofa'), mat, inst),
      box([w / 2 - 0.1, 0.32, 0.05], [0.1, 0.32, d / 2 - 0.05], id('sofa'), mat, inst),
    ];
    const pm = b.randomMaterial(rng.pick([PALETTE.yellow, PALETTE.red, PALETTE.white]), [
      'stripes',
      'checker',
      'noise',
    ]);
    for (const sx of [-1, 1]) {
      const pi = b.instance();
      prims.push(
        box([sx * (w / 2 - 0.38), 0.6, -d / 2 + 0.28], [0.2, 0.16, 0.07], id('pillow'), pm, pi, rotationY(0)),
      );
    }
    return { prims, width: w, depth: d, againstWall: true };
  },
  bed(b) {
    const rng = b.rng;
    const w = rng.uniform(1.0, 1.7);
    const d = rng.uniform(1.9, 2.1);
    const inst = b.instance();
    const frame = b.randomMaterial(PALETTE.wood, ['wood']);
    const sheet = b.randomMaterial(rng.pick([PALETTE.white, PALETTE.fabric, PALETTE.yellow]), [
      'noise',
      'stripes',
      'checker',
    ]);
    const prims = [
      box([0, 0.2, 0], [w / 2, 0.2, d / 2], id('bed'), frame, inst),
      box([0, 0.48, 0.02], [w / 2 - 0.02, 0.08, d / 2 - 0.04], id('bed'), sheet, inst),
      box([0, 0.55, -d / 2 + 0.03], [w / 2, 0.55, 0.03], id('bed'), frame, inst),
    ];
    const pm = b.randomMaterial(PALETTE.white, ['noise', 'stripes']);
    prims.push(box([0, 0.62, -d / 2 + 0.28], [w / 2 - 0.15, 0.07, 0.18], id('pillow'), pm, b.instance()));
    return { prims, width: w, depth: d, againstWall: true };
  },
  bookshelf(b) {
    const rng = b.rng;
    const w = rng.uniform(0.8, 1.2);
    const h = rng.uniform(1.5, 2.0);
    const d = 0.35;
    const inst = b.instance();
    const mat = b.randomMaterial(PALETTE.wood, ['wood', 'noise']);
    const prims = [box([0, h / 2, -0.02], [w / 2, h / 2, d / 2 - 0.02], id('bookshelf'), mat, inst)];
    const rows = 2 + rng.int(3);
    for (let r = 0; r < rows; r++) {
      const y = (h * (r + 0.6)) / (rows + 0.5);
      let x = -w / 2 + 0.04;
      while (x < w / 2 - 0.12) {
        const bw = rng.uniform(0.06, 0.18);
        const bh = rng.uniform(0.15, 0.25);
        const bm = b.randomMaterial(
          rng.pick([PALETTE.red, PALETTE.green, PALETTE.fabric, PALETTE.yellow, PALETTE.white]),
          ['noise', 'stripes'],
        );
        prims.push(
          box([x + bw / 2, y, d / 2 - 0.04], [bw / 2 - 0.005, bh / 2, 0.05], id('books'), bm, b.instance()),
        );
        x += bw;
      }
    }
    return { prims, width: w, depth: d, againstWall: true };
  },
  cabinet(b) {
    const rng = b.rng;
    const w = rng.uniform(0.6, 1.2);
    const h = rng.uniform(0.7, 1.1);
    const d = rng.uniform(0.4, 0.55);
    const mat = b.randomMaterial(rng.pick([PALETTE.wood, PALETTE.white, PALETTE.grey]));
    const prims = [box([0, h / 2, 0], [w / 2, h / 2, d / 2], id('cabinet'), mat, b.instance())];
    if (rng.next() < 0.5) {
      const tv = b.material('noise', [0.08, 0.08, 0.1], [0.25, 0.28, 0.35], 3);
      prims.push(
        box([0, h + 0.3, 0], [Math.min(w / 2, 0.5), 0.28, 0.03], id('television'), tv, b.instance()),
      );
    }
    return { prims, width: w, depth: d, againstWall: true };
  },
  desk(b) {
    const rng = b.rng;
    const w = rng.uniform(1.0, 1.5);
    const d = rng.uniform(0.55, 0.75);
    const inst = b.instance();
    const mat = b.randomMaterial(rng.pick([PALETTE.wood, PALETTE.white]));
    const prims = [
      box([0, 0.73, 0], [w / 2, 0.025, d / 2], id('desk'), mat, inst),
      box([-w / 2 + 0.02, 0.36, 0], [0.02, 0.36, d / 2], id('desk'), mat, inst),
      box([w / 2 - 0.02, 0.36, 0], [0.02, 0.36, d / 2], id('desk'), mat, inst),
    ];
    if (rng.next() < 0.6) {
      const pm = b.material('noise', [0.92, 0.92, 0.9], [0.75, 0.75, 0.72], 8);
      prims.push(
        box([rng.uniform(-0.2, 0.2), 0.757, 0.05], [0.15, 0.002, 0.11], id('paper'), pm, b.instance()),
      );
    }
    return { prims, width: w, depth: d, againstWall: true };
  },
  dresser(b) {
    const rng = b.rng;
    const w = rng.uniform(0.8, 1.3);
    const h = rng.uniform(0.8, 1.1);
    const d = 0.5;
    const mat = b.randomMaterial(PALETTE.wood, ['wood', 'stripes']);
    const prims = [box([0, h / 2, 0], [w / 2, h / 2, d / 2], id('dresser'), mat, b.instance())];
    const li = b.instance();
    const lm = b.randomMaterial(PALETTE.white, ['noise']);
    prims.push(cylinder([w / 4, h + 0.12, 0], 0.05, 0.12, id('lamp'), lm, li));
    prims.push(cylinder([w / 4, h + 0.32, 0], 0.14, 0.1, id('lamp'), lm, li));
    return { prims, width: w, depth: d, againstWall: true };
  },
  nightstand(b) {
    const rng = b.rng;
    const w = rng.uniform(0.4, 0.55);
    const mat = b.randomMaterial(PALETTE.wood, ['wood', 'noise']);
    const prims = [box([0, 0.28, 0], [w / 2, 0.28, w / 2], id('night stand'), mat, b.instance())];
    if (rng.next() < 0.7) {
      const bag = b.randomMaterial(rng.pick([PALETTE.red, PALETTE.dark, PALETTE.fabric]), [
        'noise',
        'checker',
      ]);
      prims.push(sphere([0, 0.56 + 0.09, 0], 0.09, id('otherprop'), bag, b.instance()));
    }
    return { prims, width: w, depth: w, againstWall: true };
  },
  refrigerator(b) {
    const rng = b.rng;
    const h = rng.uniform(1.6, 1.9);
    const mat = b.randomMaterial(rng.pick([PALETTE.white, PALETTE.grey]), ['noise', 'stripes']);
    return {
      prims: [box([0, h / 2, 0], [0.35, h / 2, 0.33], id('refridgerator'), mat, b.instance())],
      width: 0.7,
      depth: 0.66,
      againstWall: true,
    };
  },
  cardboardBox(b) {
    const rng = b.rng;
    const s = rng.uniform(0.25, 0.5);
    const mat = b.randomMaterial([0.62, 0.47, 0.3], ['noise', 'stripes']);
    const inst = b.instance();
    const prims = [box([0, s / 2, 0], [s / 2, s / 2, s / 2], id('box'), mat, inst)];
    if (rng.next() < 0.5)
      prims.push(
        box(
          [0, s + s / 4, 0],
          [s / 3, s / 4, s / 3],
          id('box'),
          mat,
          b.instance(),
          rotationY(rng.uniform(0, 1)),
        ),
      );
    return { prims, width: s, depth: s, againstWall: false };
  },
  floorLamp(b) {
    const h = b.rng.uniform(1.3, 1.7);
    const mat = b.randomMaterial(PALETTE.white, ['noise', 'stripes']);
    const pole = b.material('noise', [0.2, 0.2, 0.22], [0.35, 0.35, 0.38], 4);
    const inst = b.instance();
    return {
      prims: [
        cylinder([0, 0.02, 0], 0.16, 0.02, id('lamp'), pole, inst),
        cylinder([0, h / 2, 0], 0.018, h / 2, id('lamp'), pole, inst),
        cylinder([0, h + 0.1, 0], 0.2, 0.13, id('lamp'), mat, inst),
      ],
      width: 0.4,
      depth: 0.4,
      againstWall: false,
    };
  },
  ball(b) {
    const r = b.rng.uniform(0.12, 0.22);
    const mat = b.randomMaterial(b.rng.pick([PALETTE.red, PALETTE.yellow, PALETTE.green]), [
      'stripes',
      'checker',
    ]);
    return {
      prims: [sphere([0, r, 0], r, id('otherprop'), mat, b.instance())],
      width: 2 * r,
      depth: 2 * r,
      againstWall: false,
    };
  },
  bag(b) {
    const mat = b.randomMaterial(b.rng.pick([PALETTE.dark, PALETTE.red, PALETTE.fabric]), [
      'noise',
      'checker',
    ]);
    return {
      prims: [box([0, 0.2, 0], [0.18, 0.2, 0.1], id('bag'), mat, b.instance(), rotationY(0))],
      width: 0.36,
      depth: 0.2,
      againstWall: false,
    };
  },
};

const FURNITURE_NAMES = Object.keys(FURNITURE);

function rectOverlaps(a: Footprint, list: Footprint[], margin: number): boolean {
  return list.some(
    (b) => a.x0 < b.x1 + margin && b.x0 < a.x1 + margin && a.z0 < b.z1 + margin && b.z0 < a.z1 + margin,
  );
}

/** World footprint of a w×d rectangle rotated by a yaw that is a multiple of 90° or arbitrary (AABB). */
function footprint(x: number, z: number, w: number, d: number, yaw: number): Footprint {
  const c = Math.abs(Math.cos(yaw));
  const s = Math.abs(Math.sin(yaw));
  const hx = (w * c + d * s) / 2;
  const hz = (w * s + d * c) / 2;
  return { x0: x - hx, x1: x + hx, z0: z - hz, z1: z + hz };
}

function place(prims: Primitive[], yaw: number, x: number, z: number): Primitive[] {
  const r = rotationY(yaw);
  return prims.map((p) => ({
    ...p,
    center: add(matVec(r, p.center), [x, 0, z]),
    rotation: matMul(r, p.rotation),
  }));
}

/** The band the camera moves in is z < CAMERA_BAND; furniture keeps out of z < FURNITURE_START. */
const FURNITURE_START = 1.7;

/**
 * Builds the scene with seed `seed`: deterministic, no global state.
 *
 * @example
 * const scene = buildScene(1234);
 * scene.primitives.length; // furniture, wall items and the person
 */
export function buildScene(seed: number, options: SceneOptions = {}): SceneDescription {
  const rng = new Rng(seed);
  const b = new SceneBuilder(rng);
  const Lx = rng.uniform(3.6, 6);
  const Ly = rng.uniform(2.5, 3.0);
  const Lz = rng.uniform(4.2, 6.5);

  const wallColor = rng.pick<Rgb>([PALETTE.light, [0.75, 0.8, 0.7], [0.8, 0.72, 0.62], [0.7, 0.75, 0.82]]);
  const wall = b.material(
    rng.pick(['noise', 'stripes'] as const),
    jitterColor(rng, wallColor, 0.05),
    darker(wallColor, 0.8),
    rng.uniform(2, 5),
    [1, 0, 1],
  );
  const accent = b.randomMaterial(jitterColor(rng, wallColor, 0.15), ['stripes', 'noise', 'checker']);
  const floor = b.randomMaterial(rng.pick([PALETTE.wood, PALETTE.grey, [0.6, 0.5, 0.4] as Rgb]), [
    'wood',
    'checker',
    'noise',
  ]);
  const ceiling = b.material('noise', [0.9, 0.9, 0.88], [0.75, 0.75, 0.73], 2.5);
  const accentFace = rng.pick([0, 1, 5]);
  const wallFaces = [0, 1, 4, 5].map((f) => (f === accentFace ? accent : wall));
  const room: Room = {
    size: [Lx, Ly, Lz],
    faceMaterials: [wallFaces[0], wallFaces[1], floor, ceiling, wallFaces[2], wallFaces[3]],
  };

  // Wall items on the three walls the camera faces: x = 0, x = Lx, z = Lz.
  const wallSpans: Record<number, [number, number][]> = { 0: [], 1: [], 5: [] };
  const wallItems: [Nyud40ClassName, number, number, number][] = [
    // class, width, height, bottom
    ['door', 0.9, 2.05, 0],
    ['window', 1.3, 1.2, 0.9],
    ['picture', 0.6, 0.45, 1.4],
    ['picture', 0.4, 0.5, 1.3],
    ['whiteboard', 1.4, 0.9, 1.0],
    ['mirror', 0.5, 0.9, 1.0],
    ['blinds', 1.1, 1.0, 1.1],
    ['curtain', 0.5, 2.1, 0.2],
  ];
  const itemCount = 2 + rng.int(4);
  for (let i = 0; i < itemCount; i++) {
    const [cls, w0, h, bottom] = rng.pick(wallItems);
    const w = w0 * rng.uniform(0.8, 1.2);
    const face = rng.pick([0, 1, 5]);
    const along = face === 5 ? Lx : Lz;
    const lo = face === 5 ? 0.1 : FURNITURE_START - 0.3;
    if (along - lo - w < 0.3) continue;
    const a = rng.uniform(lo + w / 2 + 0.05, along - w / 2 - 0.05);
    if (wallSpans[face].some(([s0, s1]) => a - w / 2 < s1 + 0.05 && s0 < a + w / 2 + 0.05)) continue;
    wallSpans[face].push([a - w / 2, a + w / 2]);
    const thick = cls === 'curtain' ? 0.05 : 0.025;
    const color: Rgb =
      cls === 'window'
        ? [0.75, 0.85, 0.95]
        : cls === 'mirror'
          ? [0.7, 0.75, 0.78]
          : cls === 'whiteboard'
            ? [0.93, 0.93, 0.93]
            : jitterColor(rng, PALETTE.fabric, 0.3);
    const mat =
      cls === 'door'
        ? b.randomMaterial(PALETTE.wood, ['wood'])
        : cls === 'picture' || cls === 'curtain' || cls === 'blinds'
          ? b.randomMaterial(color)
          : b.material('noise', color, darker(color, 0.85), 4);
    const y = bottom + h / 2;
    const center: Vec3 = face === 0 ? [thick, y, a] : face === 1 ? [Lx - thick, y, a] : [a, y, Lz - thick];
    const half: Vec3 = face === 5 ? [w / 2, h / 2, thick] : [thick, h / 2, w / 2];
    b.primitives.push(box(center, half, nyud40Id(cls), mat, b.instance()));
  }

  const occupied: Footprint[] = [];
  let personCenter: Vec3 | undefined;
  const hasPerson = rng.next() < (options.personProbability ?? 1);
  if (hasPerson) {
    const skin = b.material('noise', jitterColor(rng, [0.8, 0.6, 0.48], 0.12), [0.62, 0.45, 0.35], 6);
    const shirt = b.randomMaterial(
      rng.pick([PALETTE.red, PALETTE.fabric, PALETTE.green, PALETTE.yellow, PALETTE.white]),
      ['stripes', 'checker', 'noise'],
    );
    const trousers = b.randomMaterial(rng.pick([PALETTE.dark, PALETTE.fabric, PALETTE.grey]), ['noise']);
    const shoes = b.material('noise', [0.12, 0.1, 0.1], [0.3, 0.25, 0.2], 6);
    const inst = b.instance();
    const figure = buildPerson(rng, rng.uniform(1.5, 1.9), { skin, shirt, trousers, shoes }, inst);
    const x = rng.uniform(0.8, Lx - 0.8);
    const z = rng.uniform(FURNITURE_START + 0.4, Math.min(Lz - 0.6, FURNITURE_START + 2.6));
    const yaw = Math.PI + rng.uniform(-1.1, 1.1);
    b.primitives.push(...place(figure, yaw, x, z));
    occupied.push(footprint(x, z, 0.7, 0.7, 0));
    personCenter = [x, 1.1, z];
  }

  // Furniture: against the walls or free-standing, never overlapping.
  const furnitureCount = 5 + rng.int(5);
  const placedGroups: Primitive[][] = [];
  for (let i = 0; i < furnitureCount; i++) {
    const item = FURNITURE[rng.pick(FURNITURE_NAMES)](b);
    for (let attempt = 0; attempt < 12; attempt++) {
      let x: number;
      let z: number;
      let yaw: number;
      if (item.againstWall) {
        const face = rng.pick([0, 1, 5]);
        if (face === 5) {
          yaw = Math.PI;
          z = Lz - item.depth / 2 - 0.01;
          x = rng.uniform(item.width / 2 + 0.05, Lx - item.width / 2 - 0.05);
        } else {
          yaw = face === 0 ? Math.PI / 2 : -Math.PI / 2;
          x = face === 0 ? item.depth / 2 + 0.01 : Lx - item.depth / 2 - 0.01;
          z = rng.uniform(FURNITURE_START + item.width / 2, Lz - item.width / 2 - 0.05);
        }
      } else {
        yaw = rng.uniform(0, 2 * Math.PI);
        const r = Math.hypot(item.width, item.depth) / 2;
        x = rng.uniform(r + 0.05, Lx - r - 0.05);
        z = rng.uniform(FURNITURE_START + r, Lz - r - 0.05);
      }
      const fp = footprint(x, z, item.width, item.depth, yaw);
      if (
        fp.z0 < FURNITURE_START ||
        fp.x0 < 0 ||
        fp.x1 > Lx ||
        fp.z1 > Lz ||
        rectOverlaps(fp, occupied, 0.05)
      )
        continue;
      occupied.push(fp);
      const placed = place(item.prims, yaw, x, z);
      placedGroups.push(placed);
      b.primitives.push(...placed);
      break;
    }
  }
  // Saliency: the person and one designated object.
  if (placedGroups.length > 0) for (const p of rng.pick(placedGroups)) p.salient = true;

  const lights: PointLight[] = [];
  const lightCount = 1 + rng.int(2);
  for (let i = 0; i < lightCount; i++)
    lights.push({
      position: [rng.uniform(0.5, Lx - 0.5), Ly - 0.15, rng.uniform(0.5, Lz - 0.5)],
      intensity: (lightCount === 1 ? 1.25 : 0.75) * rng.uniform(0.9, 1.1),
    });
  const ambient = rng.uniform(0.25, 0.35);

  // Handheld clip: constant velocity and angular rates plus a little shake.
  const p0: Vec3 = [rng.uniform(0.3 * Lx, 0.7 * Lx), rng.uniform(1.1, 1.7), rng.uniform(0.45, 1.15)];
  const lookAt: Vec3 = [
    rng.uniform(0.25 * Lx, 0.75 * Lx),
    rng.uniform(0.6, 1.4),
    rng.uniform(FURNITURE_START + 1, Lz),
  ];
  const target =
    personCenter && rng.next() < 0.8
      ? add(personCenter, [rng.uniform(-0.6, 0.6), rng.uniform(-0.4, 0.3), 0])
      : lookAt;
  const forward = normalize(sub(target, p0));
  const yaw0 = Math.atan2(forward[0], forward[2]);
  const pitch0 = Math.asin(forward[1]);
  const roll0 = rng.uniform(-0.06, 0.06);
  const heading = rng.uniform(0, 2 * Math.PI);
  const speed = rng.uniform(0.03, 0.1);
  const velocity: Vec3 = [
    speed * Math.cos(heading),
    speed * rng.uniform(-0.25, 0.25),
    speed * Math.sin(heading),
  ];
  const rates = [rng.uniform(-0.025, 0.025), rng.uniform(-0.012, 0.012), rng.uniform(-0.006, 0.006)];
  const clip: ClipFrame[] = [];
  for (let k = -CLIP_HALF_LENGTH; k <= CLIP_HALF_LENGTH; k++) {
    const shake =
      k === 0
        ? [0, 0, 0, 0, 0, 0]
        : Array.from({ length: 6 }, (_, i) => rng.uniform(-1, 1) * (i < 3 ? 0.004 : 0.004));
    const yaw = yaw0 + rates[0] * k + shake[3];
    const pitch = pitch0 + rates[1] * k + shake[4];
    const dir: Vec3 = [Math.sin(yaw) * Math.cos(pitch), Math.sin(pitch), Math.cos(yaw) * Math.cos(pitch)];
    clip.push({
      offset: k,
      rotation: cameraRotation(dir, roll0 + rates[2] * k + shake[5]),
      position: [
        p0[0] + velocity[0] * k + shake[0],
        p0[1] + velocity[1] * k + shake[1],
        p0[2] + velocity[2] * k + shake[2],
      ],
    });
  }

  return { seed, room, primitives: b.primitives, materials: b.materials, lights, ambient, hasPerson, clip };
}
