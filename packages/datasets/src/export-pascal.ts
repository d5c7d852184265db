import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IGNORE_LABEL, NYUD40_CLASSES, NYUD40_TO_PASCAL_CONTEXT, PASCAL_CONTEXT_CLASSES } from './classes.js';
import { writeFolderAtomically } from './export.js';
import { encodeJpeg } from './formats/jpeg.js';
import { type MatArray, matChar, matNumeric, matStruct, writeMat } from './formats/mat.js';
import { encodeNormals } from './formats/nyud-mt.js';
import { PASCAL_MT_LAYOUT, PASCAL_PERSON_CATEGORY, encodeSaliency } from './formats/pascal-mt.js';
import { vocPalette } from './colormaps.js';
import { encodePng } from './formats/png.js';
import { encodeRgb } from './formats/rgb.js';
import type { MultiViewSample } from './schema.js';
import { type SampleRequest, renderSamples } from './synthetic/parallel.js';
import { SPLITS, SyntheticWorld } from './synthetic/world.js';
import type { ExportSyntheticOptions } from './export.js';

/**
 * PASCAL-Context (459-class, `context_classes.json`) ids of the classes the synthetic world exports
 * (the dataset's own ids; 'unknown' = 431).
 */
export const PASCAL_CONTEXT_459_IDS: Readonly<Record<string, number>> = Object.freeze({
  bag: 9,
  bathtub: 17,
  bed: 18,
  board: 30,
  book: 33,
  box: 37,
  cabinet: 46,
  ceiling: 68,
  chair: 72,
  cloth: 80,
  counter: 96,
  curtain: 105,
  door: 115,
  floor: 158,
  fridge: 170,
  light: 232,
  mat: 244,
  mirror: 252,
  paper: 273,
  person: 284,
  picture: 287,
  pillow: 290,
  shelves: 349,
  sink: 357,
  sofa: 368,
  table: 397,
  toilet: 408,
  towel: 412,
  tvmonitor: 427,
  unknown: 431,
  wall: 440,
  window: 454,
  'window blinds': 455,
});

/** NYUD-40 class → PASCAL-Context 459 class name (closest name; the three "other…" classes → 'unknown'). */
export const NYUD40_TO_CONTEXT_459_NAME: Readonly<Record<string, string>> = Object.freeze({
  wall: 'wall',
  floor: 'floor',
  cabinet: 'cabinet',
  bed: 'bed',
  chair: 'chair',
  sofa: 'sofa',
  table: 'table',
  door: 'door',
  window: 'window',
  bookshelf: 'shelves',
  picture: 'picture',
  counter: 'counter',
  blinds: 'window blinds',
  desk: 'table',
  shelves: 'shelves',
  curtain: 'curtain',
  dresser: 'cabinet',
  pillow: 'pillow',
  mirror: 'mirror',
  'floor mat': 'mat',
  clothes: 'cloth',
  ceiling: 'ceiling',
  books: 'book',
  refridgerator: 'fridge',
  television: 'tvmonitor',
  paper: 'paper',
  towel: 'towel',
  'shower curtain': 'curtain',
  box: 'box',
  whiteboard: 'board',
  person: 'person',
  'night stand': 'cabinet',
  toilet: 'toilet',
  sink: 'sink',
  lamp: 'light',
  bathtub: 'bathtub',
  bag: 'bag',
  otherstructure: 'unknown',
  otherfurniture: 'unknown',
  otherprop: 'unknown',
});

/** Part name written for each of our 6 groups (the synthetic person has no left/right distinction). */
const GROUP_PART_NAMES = ['', 'head', 'torso', 'luarm', 'llarm', 'luleg', 'llleg'];

/** PASCAL-Part's own ids of the person parts (`json/pascal_part.json` entry 15). */
const PASCAL_PART_PERSON = {
  hair: 10,
  head: 1,
  lear: 4,
  lebrow: 6,
  leye: 2,
  lfoot: 21,
  lhand: 15,
  llarm: 13,
  llleg: 19,
  luarm: 14,
  luleg: 20,
  mouth: 9,
  neck: 12,
  nose: 8,
  rear: 5,
  rebrow: 7,
  reye: 3,
  rfoot: 24,
  rhand: 18,
  rlarm: 16,
  rlleg: 22,
  ruarm: 17,
  ruleg: 23,
  torso: 11,
};

export interface WritePascalMtOptions {
  /** JPEG quality 1..100; default 95. */
  quality?: number;
  /** Semseg folder: `'pascal-context'` (default) or `'VOC12'` (the reader looks in VOC12 first). */
  semsegFolder?: 'pascal-context' | 'VOC12';
}

/**
 * Writes the reference view of a synthetic sample in the PASCAL-MT layout (see `PASCAL_MT_LAYOUT`).
 * NYUD-40 labels are mapped to PASCAL-Context: 21 classes for semseg (`NYUD40_TO_PASCAL_CONTEXT`,
 * written as a VOC-palette PNG) and 459-class ids for `LabelMap` (`NYUD40_TO_CONTEXT_459_NAME`).
 * Human parts become a PASCAL-Part `anno` with one person object (parts as `GROUP_PART_NAMES`) and one
 * object per other VOC class present.
 *
 * @returns the per-object class list of the parts index (`ImageSets/Parts`).
 */
export function writePascalMtSample(
  root: string,
  sample: MultiViewSample,
  options: WritePascalMtOptions = {},
): number[] {
  const L = PASCAL_MT_LAYOUT;
  const { id, height: H, width: W } = sample;
  const ref = sample.views[0];
  const labels = ref.labels;
  if (!labels?.semseg || !labels.normals || !labels.sal || !labels.human_parts)
    throw new Error(`writePascalMtSample: sample ${id} lacks one of semseg, normals, sal, human_parts`);
  const semsegFolder = options.semsegFolder === 'VOC12' ? L.semsegVoc : L.semsegContext;
  for (const f of [L.images, semsegFolder, L.humanParts, L.sal, L.normals, L.contextLabels])
    mkdirSync(join(root, f), { recursive: true });
  const n = H * W;
  writeFileSync(
    join(root, L.images, `${id}.jpg`),
    encodeJpeg(encodeRgb(ref.rgb), H, W, options.quality ?? 95),
  );
  const voc = new Uint8Array(n);
  const labelMap = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    const c = labels.semseg[i];
    if (c === IGNORE_LABEL) voc[i] = IGNORE_LABEL;
    else {
      voc[i] = NYUD40_TO_PASCAL_CONTEXT[c];
      labelMap[i] = PASCAL_CONTEXT_459_IDS[NYUD40_TO_CONTEXT_459_NAME[NYUD40_CLASSES[c]]];
    }
  }
  writeFileSync(join(root, semsegFolder, `${id}.png`), encodePng(voc, H, W, 1, { palette: vocPalette() }));
  writeFileSync(
    join(root, L.contextLabels, `${id}.mat`),
    writeMat({ LabelMap: matNumeric(labelMap, [H, W]) }),
  );
  writeFileSync(join(root, L.sal, `${id}.png`), encodePng(encodeSaliency(labels.sal), H, W, 1));
  writeFileSync(join(root, L.normals, `${id}.png`), encodePng(encodeNormals(labels.normals), H, W, 3));

  // PASCAL-Part annotation: objects sorted by class index, the person carrying its parts.
  const objectFields = ['class', 'class_ind', 'mask', 'parts'];
  const partFields = ['part_name', 'mask'];
  const objects: Record<string, MatArray>[] = [];
  const indexEntry: number[] = [];
  const parts = labels.human_parts;
  for (let c = 1; c < PASCAL_CONTEXT_CLASSES.length; c++) {
    const mask = new Uint8Array(n);
    let area = 0;
    const partList: Record<string, MatArray>[] = [];
    if (c === PASCAL_PERSON_CATEGORY) {
      for (let i = 0; i < n; i++)
        if (parts[i] >= 1 && parts[i] <= 6) {
          mask[i] = 1;
          area++;
        }
      for (let g = 1; g <= 6; g++) {
        const pm = Uint8Array.from(parts, (v) => (v === g ? 1 : 0));
        if (pm.some((v) => v === 1))
          partList.push({ part_name: matChar(GROUP_PART_NAMES[g]), mask: matNumeric(pm, [H, W]) });
      }
    } else
      for (let i = 0; i < n; i++)
        if (voc[i] === c) {
          mask[i] = 1;
          area++;
        }
    if (area === 0) continue;
    objects.push({
      class: matChar(PASCAL_CONTEXT_CLASSES[c]),
      class_ind: matNumeric(Float64Array.of(c), [1, 1]),
      mask: matNumeric(mask, [H, W]),
      parts: partList.length > 0 ? matStruct(partFields, partList) : matNumeric(new Float64Array(0), [0, 0]),
    });
    indexEntry.push(c);
  }
  const anno = matStruct(
    ['imname', 'objects'],
    [{ imname: matChar(id), objects: matStruct(objectFields, objects) }],
  );
  writeFileSync(join(root, L.humanParts, `${id}.mat`), writeMat({ anno }));
  return indexEntry;
}

/** The parts index file in the reference's own layout (`{\n\t"id": [..],\n\t...\n}\n`). */
function formatPartsIndex(entries: [string, number[]][]): string {
  if (entries.length === 0) return '{\n}\n';
  return `{\n${entries.map(([id, c]) => `\t${JSON.stringify(id)}: ${JSON.stringify(c)}`).join(',\n')}\n}\n`;
}

/**
 * Renders the synthetic world's train and val scenes (reference views) and writes them as a PASCAL-MT
 * dataset folder, atomically (see `exportSyntheticNyudMt`): images, labels, the parts index and the
 * three JSON class lists (restricted to the classes the world uses; every exported class but 'unknown'
 * carries normals).
 *
 * @example
 * await exportSyntheticPascalMt('/tmp/syn-pascal', { seed: 1, trainScenes: 8, valScenes: 2, height: 64, width: 64 });
 * const ds = new PascalMtDataset('/tmp/syn-pascal', 'val');
 */
export async function exportSyntheticPascalMt(
  out: string,
  options: Omit<ExportSyntheticOptions, 'colmap' | 'allClipFrames'> & WritePascalMtOptions = {},
): Promise<{ train: string[]; val: string[] }> {
  const { overwrite = false, workers = 0, onProgress, quality, semsegFolder, ...worldOptions } = options;
  const world = new SyntheticWorld({ ...worldOptions, views: 1 });
  const L = PASCAL_MT_LAYOUT;
  await writeFolderAtomically(
    out,
    overwrite,
    async (temp) => {
      const requests: SampleRequest[] = SPLITS.flatMap((split) =>
        world.ids(split).map((_, index) => ({ split, index })),
      );
      const index = new Map<string, number[]>();
      let done = 0;
      await renderSamples(world.options, requests, {
        workers,
        onSample: (sample) => {
          index.set(sample.id, writePascalMtSample(temp, sample, { quality, semsegFolder }));
          onProgress?.(++done, requests.length);
        },
      });
      for (const f of [L.splits, L.partsIndex, 'json']) mkdirSync(join(temp, f), { recursive: true });
      for (const split of SPLITS) {
        const ids = world.ids(split);
        writeFileSync(join(temp, L.splits, `${split}.txt`), ids.map((id) => `${id}\n`).join(''));
        writeFileSync(
          join(temp, L.partsIndex, `${split}.txt`),
          formatPartsIndex(ids.map((id) => [id, index.get(id)!])),
        );
      }
      const contextNames = [...new Set(Object.values(NYUD40_TO_CONTEXT_459_NAME))].sort();
      const context = Object.fromEntries(
        [...contextNames, 'tvmonitor'].sort().map((name) => [name, PASCAL_CONTEXT_459_IDS[name]]),
      );
      // nyu_classes.json: only its names matter to the loaders; values are the NYUD-40 ids (1-based).
      const nyu = Object.fromEntries(
        NYUD40_CLASSES.map((name, i) => [NYUD40_TO_CONTEXT_459_NAME[name], i + 1] as const)
          .filter(([name]) => name !== 'unknown')
          .reverse(),
      );
      writeFileSync(join(temp, L.contextClassesJson), `${JSON.stringify(context)}\n`);
      writeFileSync(join(temp, L.nyuClassesJson), `${JSON.stringify(nyu)}\n`);
      writeFileSync(join(temp, L.partJson), `${JSON.stringify({ 15: PASCAL_PART_PERSON })}\n`);
      const manifest = {
        generator: '@cvm/datasets synthetic world',
        layout: 'PASCAL-MT',
        options: world.options,
      };
      writeFileSync(join(temp, 'cvm-dataset.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    },
    'exportSyntheticPascalMt',
  );
  return { train: world.ids('train'), val: world.ids('val') };
}
