import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { thin } from '@cvm/metrics';
import { IGNORE_LABEL, PASCAL_CONTEXT_CLASSES } from '../classes.js';
import { PASCAL_TASKS, type MultiViewSample, type TaskLabels, type TaskName } from '../schema.js';
import { decodeJpeg } from './jpeg.js';
import { type MatArray, type MatNumeric, matField, readMat } from './mat.js';
import { decodeNormals } from './nyud-mt.js';
import { decodeRgb } from './rgb.js';
import { decodePng } from './png.js';

/**
 * The PASCAL-MT (PASCAL-Context multi-task) on-disk layout of the MTL reference code (SAK
 * `datasets/pascal_context.py`, MTL-PyTorch `data/pascal_context.py`, checked against both), and every
 * value encoding between disk and the in-memory schema, in one place:
 *
 * | task        | file                                         | stored                                   | in memory                                  |
 * |-------------|----------------------------------------------|------------------------------------------|--------------------------------------------|
 * | image       | `JPEGImages/<id>.jpg`                         | JPEG RGB                                 | float32 v / 255                            |
 * | semseg      | `semseg/VOC12/<id>.png`, else `semseg/pascal-context/<id>.png` | 8-bit gray or palette PNG: the value / palette index is the class 0..20, 255 = ignore | int32, the same |
 * | human_parts | `human_parts/<id>.mat` (PASCAL-Part `anno`)   | per object: class_ind, mask, parts (part_name, mask) | int32 0..6 (`HUMAN_PART_GROUPS`), 255 for images without person parts |
 * | sal         | `sal_distill/<id>.png`                        | gray 0..255                              | uint8 v / 255 > 0.5                        |
 * | normals     | `normals_distill/<id>.png`                    | RGB v                                    | float32 2·v/255 − 1, zeroed where the LabelMap class carries no normals |
 * | edge        | `pascal-context/trainval/<id>.mat` (`LabelMap`, PASCAL-Context 459-class ids) | label map | uint8 thin(Laplacian(LabelMap) ≠ 0) |
 * | splits      | `ImageSets/Context/{train,val}.txt`           | one id per line                          |                                            |
 * | parts index | `ImageSets/Parts/{train,val}.txt`             | JSON `{id: [class_ind per object, −1 if empty]}` | which images have a person (class 15) |
 * | class lists | `json/pascal_part.json`, `json/nyu_classes.json`, `json/context_classes.json` | JSON | normals-valid classes |
 *
 * Normals-valid classes (reference rule): the PASCAL-Context ids (`context_classes.json`, name → id) of
 * every name that also appears in `nyu_classes.json`, except 'unknown', plus 'tvmonitor'.
 * Edges (reference rule): `cv2.Laplacian(LabelMap, CV_64F)` (3×3 kernel [0 1 0; 1 −4 1; 0 1 0],
 * reflect-101 border), non-zero → `skimage.morphology.thin`.
 * Human parts: images whose parts-index entry lacks class 15 read as all 255; otherwise the parts of
 * every person object (class_ind 15 with parts) are painted in order; an image whose map has no part
 * pixel reads as all 255 (the reference's AddIgnoreRegions rule).
 */
export const PASCAL_MT_LAYOUT = {
  images: 'JPEGImages',
  semsegVoc: 'semseg/VOC12',
  semsegContext: 'semseg/pascal-context',
  humanParts: 'human_parts',
  sal: 'sal_distill',
  normals: 'normals_distill',
  contextLabels: 'pascal-context/trainval',
  splits: 'ImageSets/Context',
  partsIndex: 'ImageSets/Parts',
  partJson: 'json/pascal_part.json',
  nyuClassesJson: 'json/nyu_classes.json',
  contextClassesJson: 'json/context_classes.json',
} as const;

/** PASCAL category of persons (1-based VOC index), whose parts make the human_parts task. */
export const PASCAL_PERSON_CATEGORY = 15;

/** PASCAL-Part person part names → the 6 groups of `PASCAL_PART_CLASSES` (the reference's grouping). */
export const HUMAN_PART_GROUPS: Readonly<Record<string, number>> = Object.freeze(
  Object.fromEntries([
    ...['head', 'hair', 'leye', 'reye', 'lear', 'rear', 'lebrow', 'rebrow', 'nose', 'mouth'].map((n) => [
      n,
      1,
    ]),
    ...['torso', 'neck'].map((n) => [n, 2]),
    ...['luarm', 'ruarm'].map((n) => [n, 3]),
    ...['llarm', 'rlarm', 'lhand', 'rhand'].map((n) => [n, 4]),
    ...['luleg', 'ruleg'].map((n) => [n, 5]),
    ...['llleg', 'rlleg', 'lfoot', 'rfoot'].map((n) => [n, 6]),
  ]),
);

/** Saliency 0/1 → stored 0/255. */
export function encodeSaliency(sal: Uint8Array): Uint8Array {
  return Uint8Array.from(sal, (v) => (v === 1 ? 255 : 0));
}

/** Stored 0..255 → v / 255 > 0.5 (the reference's binarisation). */
export function decodeSaliency(stored: Uint8Array): Uint8Array {
  return Uint8Array.from(stored, (v) => (v / 255 > 0.5 ? 1 : 0));
}

/**
 * Normals-valid PASCAL-Context (459-class) ids from the two JSON class lists (see the layout note).
 *
 * @param nyuClasses parsed `nyu_classes.json` (name → NYU id; only the names are used).
 * @param contextClasses parsed `context_classes.json` (name → PASCAL-Context id).
 */
export function normalsValidClasses(
  nyuClasses: Record<string, unknown>,
  contextClasses: Record<string, number>,
): Set<number> {
  const valid = new Set<number>();
  for (const name of Object.keys(nyuClasses))
    if (name in contextClasses && name !== 'unknown') valid.add(contextClasses[name]);
  if (!('tvmonitor' in contextClasses)) throw new Error("context_classes.json has no 'tvmonitor' entry");
  valid.add(contextClasses.tvmonitor);
  return valid;
}

/**
 * Semantic boundaries of a PASCAL-Context label map as the reference loaders derive them: pixels where
 * the 3×3 Laplacian (reflect-101 border, float64) is non-zero, thinned (`skimage.morphology.thin`, the
 * same algorithm and tables as MATLAB's `bwmorph('thin')`: `thin` from `@cvm/metrics`).
 *
 * @param labelMap `[H,W]` class ids.
 * @returns `[H,W]` uint8 0/1.
 * @example const edge = pascalContextEdges(labelMap, H, W);
 */
export function pascalContextEdges(labelMap: ArrayLike<number>, height: number, width: number): Uint8Array {
  const mask = new Uint8Array(height * width);
  // reflect-101: index −1 → 1, n → n − 2 (a 1-pixel dimension reflects onto itself).
  const rx = (x: number) => (x < 0 ? Math.min(1, width - 1) : x >= width ? Math.max(0, width - 2) : x);
  const ry = (y: number) => (y < 0 ? Math.min(1, height - 1) : y >= height ? Math.max(0, height - 2) : y);
  for (let y = 0; y < height; y++) {
    const up = ry(y - 1) * width;
    const down = ry(y + 1) * width;
    const row = y * width;
    for (let x = 0; x < width; x++) {
      const lap =
        labelMap[up + x] +
        labelMap[down + x] +
        labelMap[row + rx(x - 1)] +
        labelMap[row + rx(x + 1)] -
        4 * labelMap[row + x];
      mask[row + x] = lap !== 0 ? 1 : 0;
    }
  }
  return thin(mask, height, width);
}

function fail(message: string): never {
  throw new Error(`PASCAL-MT: ${message}`);
}

function requireFile(path: string, what = 'file'): void {
  if (!existsSync(path)) fail(`${what} ${path} does not exist`);
}

function readJson(path: string): unknown {
  requireFile(path);
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    return fail(`${path}: invalid JSON (${(error as Error).message})`);
  }
}

function numericOf(value: MatArray | undefined, file: string, what: string): MatNumeric {
  if (value?.type !== 'numeric') fail(`${file}: ${what} is not a numeric array`);
  return value as MatNumeric;
}

function checkSize(file: string, dims: readonly number[], height: number, width: number): void {
  if (dims.length !== 2 || dims[0] !== height || dims[1] !== width)
    fail(`${file}: size ${dims.join('×')} does not match the image's ${height}×${width}`);
}

/** One object of a PASCAL-Part `anno`: class index, mask area, and its parts. */
interface PartObject {
  classIndex: number;
  mask: MatNumeric;
  parts: MatArray;
}

/** Objects of a PASCAL-Part annotation (`anno.objects`, fields read by position as the reference does). */
function readPartObjects(file: string): PartObject[] {
  requireFile(file);
  const vars = readMat(readFileSync(file), file);
  const anno = vars.anno;
  if (anno?.type !== 'struct') fail(`${file}: no 'anno' struct`);
  const objects = matField(anno, 1, 0, file);
  if (objects.type === 'numeric' && objects.data.length === 0) return [];
  if (objects.type !== 'struct') fail(`${file}: anno.objects is not a struct array`);
  return objects.elements.map((_, i) => {
    const cls = numericOf(matField(objects, 1, i, file), file, `objects(${i}).class_ind`);
    return {
      classIndex: cls.data[0],
      mask: numericOf(matField(objects, 2, i, file), file, `objects(${i}).mask`),
      parts: matField(objects, 3, i, file),
    };
  });
}

/**
 * The parts index of one image as the reference preprocessing computes it: per object, its class
 * index when its mask area is > 0, else −1.
 */
export function partObjectClasses(file: string): number[] {
  return readPartObjects(file).map((o) => (o.mask.data.some((v) => v !== 0) ? o.classIndex : -1));
}

export interface PascalMtOptions {
  /** Tasks to read (default all five: `PASCAL_TASKS`). */
  tasks?: readonly TaskName[];
}

/**
 * Ids of a split, from `ImageSets/Context/<split>.txt`.
 *
 * @example readPascalMtSplit('/data/PASCAL_MT', 'val').length // 5105 for the real dataset
 */
export function readPascalMtSplit(root: string, split: string): string[] {
  if (!existsSync(root) || !statSync(root).isDirectory()) fail(`dataset folder ${root} does not exist`);
  const file = join(root, PASCAL_MT_LAYOUT.splits, `${split}.txt`);
  requireFile(file, 'split file');
  return readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * A PASCAL-MT split: its ids, the class lists and parts index loaded once, and samples read on demand
 * with every encoding undone. PASCAL has no cameras: each sample has one view with a nominal pinhole
 * (fx = fy = max(H, W), principal point at the image centre) and an identity pose.
 *
 * @example
 * const ds = new PascalMtDataset('/data/PASCAL_MT', 'val');
 * const sample = ds.sample(0); // views[0]: rgb [H,W,3], labels semseg / human_parts / sal / normals / edge
 */
export class PascalMtDataset {
  readonly ids: string[];
  readonly tasks: readonly TaskName[];
  private readonly validNormals?: Set<number>;
  private partsIndex?: Map<string, number[]>;

  constructor(
    readonly root: string,
    readonly split: string,
    options: PascalMtOptions = {},
  ) {
    this.tasks = options.tasks ?? PASCAL_TASKS;
    for (const t of this.tasks)
      if (!PASCAL_TASKS.includes(t)) fail(`task '${t}' is not a PASCAL-MT task (${PASCAL_TASKS.join(', ')})`);
    this.ids = readPascalMtSplit(root, split);
    const L = PASCAL_MT_LAYOUT;
    if (this.tasks.includes('human_parts')) {
      const parts = readJson(join(root, L.partJson));
      if (typeof parts !== 'object' || parts === null) fail(`${join(root, L.partJson)}: expected an object`);
    }
    if (this.tasks.includes('normals')) {
      const nyu = readJson(join(root, L.nyuClassesJson)) as Record<string, unknown>;
      const context = readJson(join(root, L.contextClassesJson)) as Record<string, number>;
      try {
        this.validNormals = normalsValidClasses(nyu, context);
      } catch (error) {
        fail(`${join(root, L.contextClassesJson)}: ${(error as Error).message}`);
      }
    }
  }

  /** Number of samples. */
  get length(): number {
    return this.ids.length;
  }

  /**
   * Which images have a person: `ImageSets/Parts/<split>.txt` when it lists exactly this split's ids
   * (as the reference checks), else computed from the `.mat` files (not written back).
   */
  hasHumanParts(id: string): boolean {
    if (!this.partsIndex) {
      const file = join(this.root, PASCAL_MT_LAYOUT.partsIndex, `${this.split}.txt`);
      let index: Map<string, number[]> | undefined;
      if (existsSync(file)) {
        const parsed = readJson(file) as Record<string, number[]>;
        const keys = Object.keys(parsed).sort();
        const ids = [...this.ids].sort();
        if (keys.length === ids.length && keys.every((k, i) => k === ids[i]))
          index = new Map(Object.entries(parsed));
      }
      if (!index)
        index = new Map(
          this.ids.map((i) => [
            i,
            partObjectClasses(join(this.root, PASCAL_MT_LAYOUT.humanParts, `${i}.mat`)),
          ]),
        );
      this.partsIndex = index;
    }
    const classes = this.partsIndex.get(id);
    if (!classes) fail(`'${id}' is not in split '${this.split}'`);
    return classes.includes(PASCAL_PERSON_CATEGORY);
  }

  /** Reads sample `index` (or id). */
  sample(index: number | string): MultiViewSample {
    const id = typeof index === 'number' ? this.ids[index] : index;
    if (id === undefined)
      fail(`index ${index} is outside split '${this.split}' (${this.ids.length} samples)`);
    const L = PASCAL_MT_LAYOUT;
    const root = this.root;
    const imageFile = join(root, L.images, `${id}.jpg`);
    requireFile(imageFile);
    const image = decodeJpeg(readFileSync(imageFile), imageFile);
    const { height: H, width: W } = image;
    const labels: TaskLabels = {};
    let labelMap: MatNumeric | undefined;
    const contextFile = join(root, L.contextLabels, `${id}.mat`);
    const needLabelMap = this.tasks.includes('edge') || this.tasks.includes('normals');
    if (needLabelMap) {
      requireFile(contextFile);
      labelMap = numericOf(readMat(readFileSync(contextFile), contextFile).LabelMap, contextFile, 'LabelMap');
      checkSize(contextFile, labelMap.dims, H, W);
    }
    for (const task of this.tasks) {
      if (task === 'semseg') {
        let file = join(root, L.semsegVoc, `${id}.png`);
        if (!existsSync(file)) file = join(root, L.semsegContext, `${id}.png`);
        if (!existsSync(file))
          fail(`no segmentation for '${id}' (neither ${L.semsegVoc}/${id}.png nor ${file} exists)`);
        const png = decodePng(readFileSync(file), file, { palette: 'indices' });
        if (png.channels !== 1)
          fail(`${file}: expected a grayscale or palette PNG, found ${png.channels} channels`);
        checkSize(file, [png.height, png.width], H, W);
        const ids = Int32Array.from(png.data);
        const bad = ids.findIndex((v) => v >= PASCAL_CONTEXT_CLASSES.length && v !== IGNORE_LABEL);
        if (bad >= 0) fail(`${file}: class ${ids[bad]} at pixel ${bad} is outside 0..20 and not 255`);
        labels.semseg = ids;
      } else if (task === 'sal') {
        const file = join(root, L.sal, `${id}.png`);
        requireFile(file);
        const png = decodePng(readFileSync(file), file, { palette: 'indices' });
        if (png.channels !== 1) fail(`${file}: expected a grayscale PNG, found ${png.channels} channels`);
        checkSize(file, [png.height, png.width], H, W);
        labels.sal = decodeSaliency(png.data);
      } else if (task === 'normals') {
        const file = join(root, L.normals, `${id}.png`);
        requireFile(file);
        const png = decodePng(readFileSync(file), file);
        if (png.channels !== 3 && png.channels !== 4)
          fail(`${file}: expected an RGB PNG, found ${png.channels} channels`);
        checkSize(file, [png.height, png.width], H, W);
        const rgb =
          png.channels === 3
            ? png.data
            : Uint8Array.from({ length: H * W * 3 }, (_, i) => png.data[4 * Math.floor(i / 3) + (i % 3)]);
        const normals = decodeNormals(rgb);
        const valid = this.validNormals!;
        const lm = labelMap!.data;
        for (let i = 0; i < H * W; i++) if (!valid.has(lm[i])) normals.fill(0, 3 * i, 3 * i + 3);
        labels.normals = normals;
      } else if (task === 'edge') {
        labels.edge = pascalContextEdges(labelMap!.data, H, W);
      } else if (task === 'human_parts') {
        labels.human_parts = this.readHumanParts(id, H, W);
      }
    }
    const f = Math.max(H, W);
    return {
      id,
      height: H,
      width: W,
      views: [
        {
          rgb: decodeRgb(image.data),
          intrinsics: Float64Array.from([f, 0, (W - 1) / 2, 0, f, (H - 1) / 2, 0, 0, 1]),
          cameraToWorld: Float64Array.from([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]),
          labels,
          name: id,
        },
      ],
    };
  }

  private readHumanParts(id: string, H: number, W: number): Int32Array {
    const file = join(this.root, PASCAL_MT_LAYOUT.humanParts, `${id}.mat`);
    requireFile(file);
    const out = new Int32Array(H * W);
    if (!this.hasHumanParts(id)) return out.fill(IGNORE_LABEL);
    let painted = false;
    for (const object of readPartObjects(file)) {
      if (object.classIndex !== PASCAL_PERSON_CATEGORY) continue;
      const parts = object.parts;
      if (parts.type !== 'struct' || parts.elements.length === 0) continue;
      checkSize(file, object.mask.dims, H, W);
      parts.elements.forEach((_, p) => {
        const nameValue = matField(parts, 0, p, file);
        const name = nameValue.type === 'char' ? nameValue.text : '';
        const group = HUMAN_PART_GROUPS[name];
        if (group === undefined) fail(`${file}: unknown person part '${name}'`);
        const mask = numericOf(matField(parts, 1, p, file), file, `part '${name}' mask`);
        checkSize(file, mask.dims, H, W);
        for (let i = 0; i < H * W; i++)
          if (mask.data[i]) {
            out[i] = group;
            painted = true;
          }
      });
    }
    return painted ? out : out.fill(IGNORE_LABEL);
  }
}

/**
 * Reads one PASCAL-MT sample (convenience over `PascalMtDataset`, which caches the class lists and the
 * parts index across samples).
 *
 * @example const sample = readPascalMtSample('/data/PASCAL_MT', 'val', '2008_000002');
 */
export function readPascalMtSample(
  root: string,
  split: string,
  id: string,
  options: PascalMtOptions = {},
): MultiViewSample {
  return new PascalMtDataset(root, split, options).sample(id);
}
