import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SampleView } from '../schema.js';
import {
  type ColmapModel,
  colmapImagePose,
  colmapViewCamera,
  parseColmapBinary,
  parseColmapText,
} from './colmap.js';
import { readPngFile, requireFile } from './files.js';
import { decodeRgb } from './rgb.js';

/**
 * Multi-view frames around a labelled frame (cvm's multi-view NYUv2 extension of NYUD-MT):
 *
 * ```
 * multiview/<id>/views.txt            frame names, the labelled (reference) frame first
 * multiview/<id>/images/<name>        RGB frames (PNG), possibly more than views.txt lists
 * multiview/<id>/sparse/0/            COLMAP model: cameras.bin + images.bin, or cameras.txt + images.txt
 * ```
 *
 * Poses are converted to camera-to-world OpenCV and intrinsics to the integer-pixel-centre convention
 * (see `colmap.ts`). OPENCV / RADIAL distortion coefficients are read and exposed on
 * `SampleView.distortion`; the frames are NOT undistorted (COLMAP's `image_undistorter` output, or
 * PINHOLE models, need nothing more).
 */

/** How the neighbours of the reference frame are chosen. */
export type NeighbourSelection = 'listed' | 'frame' | 'centre';

export interface MultiViewOptions {
  /**
   * `'listed'` (default): the frames of `views.txt` in order. `'frame'`: the registered frames nearest
   * to the reference in frame order (names sorted numerically; ties → the earlier frame). `'centre'`:
   * the registered frames whose camera centres are nearest to the reference's.
   */
  neighbours?: NeighbourSelection;
  /** Views including the reference (1..8); default: every frame `views.txt` lists, or 3 when selecting. */
  views?: number;
  /** `'centre'` selection skips frames whose centre is closer than this to the reference's (metres); default 0. */
  minBaseline?: number;
}

/** A COLMAP model read from a `sparse/0` folder (binary preferred when both forms are present). */
export function readColmapModel(sparseDir: string): {
  model: ColmapModel;
  imagesFile: string;
  camerasFile: string;
} {
  const bin = [join(sparseDir, 'cameras.bin'), join(sparseDir, 'images.bin')];
  const txt = [join(sparseDir, 'cameras.txt'), join(sparseDir, 'images.txt')];
  if (existsSync(bin[0]) || existsSync(bin[1])) {
    for (const f of bin) requireFile(f, 'COLMAP file', 'multi-view');
    const model = parseColmapBinary(readFileSync(bin[0]), readFileSync(bin[1]), bin[0], bin[1]);
    return { model, camerasFile: bin[0], imagesFile: bin[1] };
  }
  if (!existsSync(sparseDir)) throw new Error(`multi-view: COLMAP model folder ${sparseDir} does not exist`);
  for (const f of txt) requireFile(f, 'COLMAP file', 'multi-view');
  const model = parseColmapText(readFileSync(txt[0], 'utf8'), readFileSync(txt[1], 'utf8'), txt[0], txt[1]);
  return { model, camerasFile: txt[0], imagesFile: txt[1] };
}

const frameOrder = new Intl.Collator('en', { numeric: true });

/**
 * Names of the selected views, reference first (see `MultiViewOptions`).
 *
 * @param listed the frames of `views.txt` (reference first).
 * @param where names the model file in errors.
 * @example selectViews(model, ['f3.png', 'f1.png'], { neighbours: 'centre', views: 3 }) // ['f3.png', ...]
 */
export function selectViews(
  model: ColmapModel,
  listed: readonly string[],
  options: MultiViewOptions = {},
  where = 'COLMAP model',
): string[] {
  const mode = options.neighbours ?? 'listed';
  if (listed.length === 0) throw new Error(`${where}: no reference frame listed`);
  const views = options.views ?? (mode === 'listed' ? listed.length : 3);
  if (!Number.isInteger(views) || views < 1 || views > 8)
    throw new Error(`multi-view: views must be an integer in [1, 8], got ${String(views)}`);
  if (mode === 'listed') {
    if (views > listed.length)
      throw new Error(`${where}: ${views} views requested but only ${listed.length} frames are listed`);
    return listed.slice(0, views);
  }
  const reference = model.images.find((im) => im.name === listed[0]);
  if (!reference) throw new Error(`${where}: no image named '${listed[0]}' (the reference frame)`);
  const ordered = [...model.images].sort((a, b) => frameOrder.compare(a.name, b.name));
  const rank = new Map(ordered.map((im, i) => [im.name, i]));
  const refRank = rank.get(reference.name)!;
  let candidates = ordered.filter((im) => im !== reference);
  let distance: (name: string) => number;
  if (mode === 'frame') distance = (name) => Math.abs(rank.get(name)! - refRank);
  else if (mode === 'centre') {
    const centre = (im: (typeof ordered)[number]) => {
      const p = colmapImagePose(im);
      return [p[3], p[7], p[11]];
    };
    const c0 = centre(reference);
    const dist = new Map(ordered.map((im) => [im.name, Math.hypot(...centre(im).map((v, k) => v - c0[k]))]));
    distance = (name) => dist.get(name)!;
    const minBaseline = options.minBaseline ?? 0;
    candidates = candidates.filter((im) => distance(im.name) >= minBaseline);
  } else
    throw new Error(`multi-view: neighbours must be 'listed', 'frame' or 'centre', got '${String(mode)}'`);
  candidates.sort((a, b) => distance(a.name) - distance(b.name) || rank.get(a.name)! - rank.get(b.name)!);
  if (candidates.length < views - 1)
    throw new Error(
      `${where}: ${views} views requested but only ${candidates.length} neighbour frames qualify`,
    );
  return [reference.name, ...candidates.slice(0, views - 1).map((im) => im.name)];
}

/**
 * Frames and cameras of `<root>/multiview/<id>/` (reference first).
 *
 * @returns views with RGB `[H,W,3]`, intrinsics `[3,3]` (cvm convention), camera-to-world `[4,4]` and,
 *   for distorted camera models, `distortion`.
 * @example
 * const views = readMultiViewFrames('/data/NYUD_MT', '000001', { neighbours: 'centre', views: 3, minBaseline: 0.05 });
 */
export function readMultiViewFrames(
  root: string,
  id: string,
  options: MultiViewOptions & { height?: number; width?: number } = {},
): SampleView[] {
  const dir = join(root, 'multiview', id);
  if (!existsSync(dir)) throw new Error(`multi-view: folder ${dir} does not exist`);
  const viewsFile = join(dir, 'views.txt');
  requireFile(viewsFile, 'view list', 'multi-view');
  const listed = readFileSync(viewsFile, 'utf8')
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const { model, camerasFile, imagesFile } = readColmapModel(join(dir, 'sparse', '0'));
  for (const name of listed)
    if (!model.images.some((im) => im.name === name))
      throw new Error(`${imagesFile}: no image named '${name}' (listed in ${viewsFile})`);
  const names = selectViews(model, listed, options, imagesFile);
  let { height, width } = options;
  return names.map((name) => {
    const camera = colmapViewCamera(model, name, imagesFile);
    const png = readPngFile(join(dir, 'images', name), 3, height, width);
    height ??= png.height;
    width ??= png.width;
    if (camera.width !== png.width || camera.height !== png.height)
      throw new Error(
        `${camerasFile}: the camera of ${name} is ${camera.width}×${camera.height} but ${name} is ${png.width}×${png.height}`,
      );
    const view: SampleView = {
      rgb: decodeRgb(png.data),
      intrinsics: camera.intrinsics,
      cameraToWorld: camera.cameraToWorld,
      name,
    };
    if (camera.distortion) view.distortion = camera.distortion;
    return view;
  });
}
