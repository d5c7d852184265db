import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import {
  type ColmapCamera,
  type ColmapImage,
  encodeColmapCamerasBinary,
  encodeColmapImagesBinary,
  encodeColmapPointsBinary,
  formatColmapCameras,
  formatColmapImages,
  formatColmapPoints,
  viewToColmap,
} from './formats/colmap.js';
import { encodeNpy } from './formats/npy.js';
import { NYUD_MT_LAYOUT, encodeEdge, encodeNormals, encodeNyudSemseg } from './formats/nyud-mt.js';
import { encodeRgb } from './formats/rgb.js';
import { encodePng } from './formats/png.js';
import type { MultiViewSample, SampleView } from './schema.js';
import { type SampleRequest, renderSamples } from './synthetic/parallel.js';
import { CLIP_HALF_LENGTH } from './synthetic/scene.js';
import { SPLITS, SyntheticWorld, type SyntheticWorldOptions } from './synthetic/world.js';

export interface WriteNyudMtOptions {
  /** COLMAP model form: `'text'` (cameras.txt, images.txt, points3D.txt; default) or `'binary'` (.bin). */
  colmap?: 'text' | 'binary';
  /** More frames of the same video for the model and `images/`, not listed in `views.txt`. */
  extraFrames?: readonly SampleView[];
}

/**
 * Writes one sample in the NYUD-MT layout (reference view labels) plus its multi-view frames and COLMAP
 * cameras under `multiview/<id>/`. See `NYUD_MT_LAYOUT` for files and encodings.
 *
 * @param root dataset folder (its sub-folders are created if missing).
 * @param sample a sample whose reference view has semseg, depth, normals and edge labels.
 * @param options COLMAP form and extra (unlisted) frames; see `WriteNyudMtOptions`.
 */
export function writeNyudMtSample(
  root: string,
  sample: MultiViewSample,
  options: WriteNyudMtOptions = {},
): void {
  const L = NYUD_MT_LAYOUT;
  const { id, height: H, width: W } = sample;
  const ref = sample.views[0];
  const labels = ref.labels;
  if (!labels?.semseg || !labels.depth || !labels.normals || !labels.edge)
    throw new Error(
      `writeNyudMtSample: sample ${id} lacks one of the NYUD-MT labels (semseg, depth, normals, edge)`,
    );
  for (const folder of [L.images, L.semseg, L.depth, L.normals, L.edge])
    mkdirSync(join(root, folder), { recursive: true });
  writeFileSync(join(root, L.images, `${id}.png`), encodePng(encodeRgb(ref.rgb), H, W, 3));
  writeFileSync(join(root, L.semseg, `${id}.png`), encodePng(encodeNyudSemseg(labels.semseg), H, W, 1));
  writeFileSync(join(root, L.depth, `${id}.npy`), encodeNpy(labels.depth, [H, W]));
  writeFileSync(join(root, L.normals, `${id}.png`), encodePng(encodeNormals(labels.normals), H, W, 3));
  writeFileSync(join(root, L.edge, `${id}.png`), encodePng(encodeEdge(labels.edge), H, W, 1));

  const mv = join(root, L.multiview, id);
  mkdirSync(join(mv, 'images'), { recursive: true });
  mkdirSync(join(mv, 'sparse', '0'), { recursive: true });
  const cameras: ColmapCamera[] = [];
  const images: ColmapImage[] = [];
  const names: string[] = [];
  const frames = [...sample.views, ...(options.extraFrames ?? [])];
  frames.forEach((view, i) => {
    const name = `${view.name ?? `${id}_v${i}`}.png`;
    if (i < sample.views.length) names.push(name);
    writeFileSync(join(mv, 'images', name), encodePng(encodeRgb(view.rgb), H, W, 3));
    const { pinhole, qvec, tvec } = viewToColmap(view.intrinsics, view.cameraToWorld);
    let camera = cameras.find((c) => c.params.every((p, k) => p === pinhole[k]));
    if (!camera) {
      camera = { id: cameras.length + 1, model: 'PINHOLE', width: W, height: H, params: pinhole };
      cameras.push(camera);
    }
    images.push({ id: i + 1, qvec, tvec, cameraId: camera.id, name });
  });
  writeFileSync(join(mv, 'views.txt'), `${names.join('\n')}\n`);
  const sparse = join(mv, 'sparse', '0');
  if (options.colmap === 'binary') {
    writeFileSync(join(sparse, 'cameras.bin'), encodeColmapCamerasBinary(cameras));
    writeFileSync(join(sparse, 'images.bin'), encodeColmapImagesBinary(images));
    writeFileSync(join(sparse, 'points3D.bin'), encodeColmapPointsBinary());
  } else {
    writeFileSync(join(sparse, 'cameras.txt'), formatColmapCameras(cameras));
    writeFileSync(join(sparse, 'images.txt'), formatColmapImages(images));
    writeFileSync(join(sparse, 'points3D.txt'), formatColmapPoints());
  }
}

/**
 * Runs `write(temp)` on a temporary sibling of `out` and renames it to `out` at the end, so an interrupted
 * export leaves no half-written dataset. `out` must not exist unless `overwrite`.
 */
export async function writeFolderAtomically(
  out: string,
  overwrite: boolean,
  write: (temp: string) => Promise<void>,
  who = 'export',
): Promise<void> {
  const target = resolve(out);
  if (existsSync(target) && !overwrite)
    throw new Error(`${who}: ${target} already exists (pass overwrite to replace it)`);
  mkdirSync(dirname(target), { recursive: true });
  const temp = join(dirname(target), `.${basename(target)}.partial-${process.pid}-${Date.now()}`);
  mkdirSync(temp);
  try {
    await write(temp);
    if (existsSync(target)) {
      const trash = `${temp}.old`;
      renameSync(target, trash);
      renameSync(temp, target);
      rmSync(trash, { recursive: true, force: true });
    } else renameSync(temp, target);
  } catch (error) {
    rmSync(temp, { recursive: true, force: true });
    throw error;
  }
}

export interface ExportSyntheticOptions extends SyntheticWorldOptions {
  /** COLMAP model form of `multiview/<id>/sparse/0`: `'text'` (default) or `'binary'`. */
  colmap?: 'text' | 'binary';
  /**
   * Also write the clip's other frames (all 7) to `multiview/<id>/images` and the COLMAP model, unlisted
   * in `views.txt`, so readers can select neighbours themselves (`neighbours: 'frame' | 'centre'`).
   */
  allClipFrames?: boolean;
  /** Replace `out` if it exists (default false: an existing folder is an error). */
  overwrite?: boolean;
  /** Worker threads for rendering (0 = main thread); default 0. */
  workers?: number;
  /** Called after each written sample. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Renders the synthetic world's train and val scenes and writes them as an NYUD-MT dataset folder
 * (with `multiview/` frames and COLMAP cameras, and `cvm-dataset.json` recording the options).
 * Atomic: everything is written to a temporary sibling folder that is renamed to `out` at the end, so
 * an interrupted export leaves no half-written dataset.
 *
 * @returns the resolved world options and the ids per split.
 * @example
 * await exportSyntheticNyudMt('/tmp/syn', { seed: 1, trainScenes: 8, valScenes: 2, views: 3 });
 */
export async function exportSyntheticNyudMt(
  out: string,
  options: ExportSyntheticOptions = {},
): Promise<{ train: string[]; val: string[] }> {
  const {
    overwrite = false,
    workers = 0,
    onProgress,
    colmap = 'text',
    allClipFrames = false,
    ...worldOptions
  } = options;
  const world = new SyntheticWorld(worldOptions);
  const V = world.options.views;
  // With every clip frame: render all of them; a world's first V view offsets do not depend on its
  // view count, so the first V rendered views are exactly the V-view sample.
  const renderOptions = allClipFrames ? { ...world.options, views: 2 * CLIP_HALF_LENGTH + 1 } : world.options;
  await writeFolderAtomically(
    out,
    overwrite,
    async (temp) => {
      const requests: SampleRequest[] = SPLITS.flatMap((split) =>
        world.ids(split).map((_, index) => ({ split, index })),
      );
      let done = 0;
      await renderSamples(renderOptions, requests, {
        workers,
        onSample: (rendered) => {
          const sample = { ...rendered, views: rendered.views.slice(0, V) };
          writeNyudMtSample(temp, sample, { colmap, extraFrames: rendered.views.slice(V) });
          onProgress?.(++done, requests.length);
        },
      });
      mkdirSync(join(temp, NYUD_MT_LAYOUT.splits), { recursive: true });
      for (const split of SPLITS)
        writeFileSync(
          join(temp, NYUD_MT_LAYOUT.splits, `${split}.txt`),
          world
            .ids(split)
            .map((id) => `${id}\n`)
            .join(''),
        );
      const manifest = {
        generator: '@cvm/datasets synthetic world',
        layout: `NYUD-MT + multiview (COLMAP ${colmap})`,
        allClipFrames,
        options: world.options,
      };
      writeFileSync(join(temp, 'cvm-dataset.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    },
    'exportSyntheticNyudMt',
  );
  return { train: world.ids('train'), val: world.ids('val') };
}
