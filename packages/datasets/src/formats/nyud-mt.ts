import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { IGNORE_LABEL } from '../classes.js';
import { nyuv2Intrinsics } from '../intrinsics.js';
import type { MultiViewSample, SampleView, TaskLabels } from '../schema.js';
import { type MultiViewOptions, readMultiViewFrames } from './multiview.js';
import { decodeNpy } from './npy.js';

function requireFile(path: string, what: string): void {
  requireAny(path, what, 'NYUD-MT');
}
import { decodeRgb } from './rgb.js';
import { readPngFile as readPng, requireFile as requireAny } from './files.js';

/**
 * The NYUD-MT on-disk layout of the MTL reference code (SAK / InvPT / MTL-PyTorch), plus cvm's
 * multi-view extension, and every value encoding between disk and the in-memory schema, in one place:
 *
 * | task    | file                    | stored                         | in memory                       |
 * |---------|-------------------------|--------------------------------|---------------------------------|
 * | image   | `images/<id>.png`       | RGB uint8                      | float32 v / 255                 |
 * | semseg  | `segmentation/<id>.png` | gray uint8, 1..40, 0 = void    | int32 stored − 1, void → 255    |
 * | depth   | `depth/<id>.npy`        | float32 `[H,W]` metres         | the same                        |
 * | normals | `normals/<id>.png`      | RGB uint8 v = round((n+1)·127.5) | float32 n = 2·v/255 − 1       |
 * | edge    | `edge/<id>.png`         | gray uint8 0 / 255             | uint8 v / 255 (0 / 1)           |
 * | splits  | `gt_sets/{train,val}.txt` | one id per line              |                                 |
 *
 * Multi-view extension (cvm): `multiview/<id>/views.txt` lists the frame names, reference first;
 * frames are `multiview/<id>/images/<name>`; cameras are a COLMAP text model in
 * `multiview/<id>/sparse/0/{cameras,images,points3D}.txt` (see `colmap.ts` for the conventions).
 */
export const NYUD_MT_LAYOUT = {
  images: 'images',
  semseg: 'segmentation',
  depth: 'depth',
  normals: 'normals',
  edge: 'edge',
  splits: 'gt_sets',
  multiview: 'multiview',
} as const;

export { decodeRgb, encodeRgb } from './rgb.js';

/** NYUD-40 ids 0..39 (255 = ignore) → stored 1..40 (0 = void). Other ids throw. */
export function encodeNyudSemseg(ids: Int32Array): Uint8Array {
  const out = new Uint8Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const v = ids[i];
    if (v === IGNORE_LABEL) out[i] = 0;
    else if (v >= 0 && v < 40) out[i] = v + 1;
    else
      throw new Error(
        `encodeNyudSemseg: class id ${v} at index ${i} is outside 0..39 and not ${IGNORE_LABEL}`,
      );
  }
  return out;
}

/** Stored 1..40 (0 = void) → ids 0..39, void → 255 (the reference loader's `value − 1`, −1 → 255). */
export function decodeNyudSemseg(stored: Uint8Array): Int32Array {
  const out = new Int32Array(stored.length);
  for (let i = 0; i < stored.length; i++) out[i] = stored[i] === 0 ? IGNORE_LABEL : stored[i] - 1;
  return out;
}

/** Normals in [−1, 1] → uint8 round((n + 1)·255/2). Invalid (0,0,0) encodes as 128 (decodes ≈ 0.004). */
export function encodeNormals(normals: Float32Array): Uint8Array {
  const out = new Uint8Array(normals.length);
  for (let i = 0; i < normals.length; i++)
    out[i] = Math.round((Math.min(1, Math.max(-1, normals[i])) + 1) * 127.5);
  return out;
}

/** uint8 → normals 2·v/255 − 1 (the reference code's decoding; not renormalised). */
export function decodeNormals(stored: Uint8Array): Float32Array {
  const out = new Float32Array(stored.length);
  for (let i = 0; i < stored.length; i++) out[i] = (2 * stored[i]) / 255 - 1;
  return out;
}

/** Boundaries 0/1 → 0/255. The format cannot store ignore (255): it is written as 0. */
export function encodeEdge(edge: Uint8Array): Uint8Array {
  const out = new Uint8Array(edge.length);
  for (let i = 0; i < edge.length; i++) out[i] = edge[i] === 1 ? 255 : 0;
  return out;
}

/** 0..255 → value / 255 thresholded at 0.5 (stored maps are binary). */
export function decodeEdge(stored: Uint8Array): Uint8Array {
  const out = new Uint8Array(stored.length);
  for (let i = 0; i < stored.length; i++) out[i] = stored[i] >= 128 ? 1 : 0;
  return out;
}

/**
 * Ids of a split, from `gt_sets/<split>.txt`.
 *
 * @example readNyudMtSplit('/data/NYUD_MT', 'val').length // 654 for the real dataset
 */
export function readNyudMtSplit(root: string, split: string): string[] {
  if (!existsSync(root) || !statSync(root).isDirectory())
    throw new Error(`NYUD-MT: dataset folder ${root} does not exist`);
  const file = join(root, NYUD_MT_LAYOUT.splits, `${split}.txt`);
  requireFile(file, 'split file');
  return readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export interface ReadNyudMtOptions extends MultiViewOptions {
  /** Read the multi-view frames and COLMAP cameras of `multiview/<id>/` too (default: when present). */
  multiView?: boolean;
}

/**
 * Reads one NYUD-MT sample (image + the 4 task labels) with every encoding undone. Without multi-view
 * data, the sample has one view with NYUv2 intrinsics scaled to the image and an identity pose.
 *
 * @returns a sample whose `views[0]` is `[H,W,3]` RGB with labels semseg / depth / normals / edge.
 * @example
 * const sample = readNyudMtSample('/data/NYUD_MT', readNyudMtSplit('/data/NYUD_MT', 'val')[0]);
 */
export function readNyudMtSample(root: string, id: string, options: ReadNyudMtOptions = {}): MultiViewSample {
  const L = NYUD_MT_LAYOUT;
  const image = readPng(join(root, L.images, `${id}.png`), 3);
  const { height, width } = image;
  const semseg = readPng(join(root, L.semseg, `${id}.png`), 1, height, width);
  const normals = readPng(join(root, L.normals, `${id}.png`), 3, height, width);
  const edge = readPng(join(root, L.edge, `${id}.png`), 1, height, width);
  const depthFile = join(root, L.depth, `${id}.npy`);
  requireFile(depthFile, 'file');
  const depth = decodeNpy(readFileSync(depthFile), depthFile);
  const depthCount = depth.shape.reduce((a, b) => a * b, 1);
  if (depth.descr !== '<f4' && depth.descr !== '<f8')
    throw new Error(`${depthFile}: expected float depth, found dtype ${depth.descr}`);
  if (depthCount !== height * width || depth.shape[0] !== height)
    throw new Error(
      `${depthFile}: shape (${depth.shape.join(', ')}) does not match the image's ${height}×${width}`,
    );
  const labels: TaskLabels = {
    semseg: decodeNyudSemseg(semseg.data),
    depth: depth.data instanceof Float32Array ? depth.data : Float32Array.from(depth.data),
    normals: decodeNormals(normals.data),
    edge: decodeEdge(edge.data),
  };
  const mvDir = join(root, L.multiview, id);
  const multiView = options.multiView ?? existsSync(mvDir);
  if (!multiView) {
    const view: SampleView = {
      rgb: decodeRgb(image.data),
      intrinsics: nyuv2Intrinsics(height, width),
      cameraToWorld: Float64Array.from([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]),
      labels,
      name: id,
    };
    return { id, height, width, views: [view] };
  }
  const views = readMultiViewFrames(root, id, { ...options, height, width });
  views[0].labels = labels;
  return { id, height, width, views };
}
