/**
 * Class lists of the multi-task benchmarks. Indices are the in-memory class ids (what losses and metrics
 * see); `IGNORE_LABEL` (255) marks pixels without a label.
 */

/** Label value that losses and metrics ignore (semseg, human_parts, edge, sal). */
export const IGNORE_LABEL = 255;

/**
 * NYUD-v2 40 classes (Gupta et al.), in-memory ids 0..39. On disk (NYUD-MT `segmentation/*.png`) the
 * stored value is id + 1, with 0 = void (see `nyud-encoding.ts`). Names keep the original spellings.
 */
export const NYUD40_CLASSES = [
  'wall',
  'floor',
  'cabinet',
  'bed',
  'chair',
  'sofa',
  'table',
  'door',
  'window',
  'bookshelf',
  'picture',
  'counter',
  'blinds',
  'desk',
  'shelves',
  'curtain',
  'dresser',
  'pillow',
  'mirror',
  'floor mat',
  'clothes',
  'ceiling',
  'books',
  'refridgerator',
  'television',
  'paper',
  'towel',
  'shower curtain',
  'box',
  'whiteboard',
  'person',
  'night stand',
  'toilet',
  'sink',
  'lamp',
  'bathtub',
  'bag',
  'otherstructure',
  'otherfurniture',
  'otherprop',
] as const;

export type Nyud40ClassName = (typeof NYUD40_CLASSES)[number];

/** In-memory NYUD-40 id of a class name (0-based). @example nyud40Id('chair') === 4 */
export function nyud40Id(name: Nyud40ClassName): number {
  return NYUD40_CLASSES.indexOf(name);
}

/** PASCAL-Context multi-task semantic classes: the 20 VOC classes plus background (id 0). */
export const PASCAL_CONTEXT_CLASSES = [
  'background',
  'aeroplane',
  'bicycle',
  'bird',
  'boat',
  'bottle',
  'bus',
  'car',
  'cat',
  'chair',
  'cow',
  'diningtable',
  'dog',
  'horse',
  'motorbike',
  'person',
  'pottedplant',
  'sheep',
  'sofa',
  'train',
  'tvmonitor',
] as const;

/**
 * PASCAL human parts (the 6-part grouping of the MTL reference code plus background): head (hair, eyes,
 * ears, nose, mouth), torso (torso, neck), upper arms, lower arms (with hands), upper legs, lower legs
 * (with feet).
 */
export const PASCAL_PART_CLASSES = [
  'background',
  'head',
  'torso',
  'upper arm',
  'lower arm',
  'upper leg',
  'lower leg',
] as const;

/**
 * Maps NYUD-40 ids to PASCAL-Context ids for the classes both have (chair, sofa, table and desk → diningtable,
 * person, television → tvmonitor); every other class becomes background (0). Lets the synthetic world
 * (labelled in NYUD-40) feed the PASCAL 5-task setup.
 *
 * @example NYUD40_TO_PASCAL_CONTEXT[nyud40Id('sofa')] === 18
 */
export const NYUD40_TO_PASCAL_CONTEXT: readonly number[] = NYUD40_CLASSES.map((name) => {
  const alias: Record<string, string> = {
    table: 'diningtable',
    desk: 'diningtable',
    television: 'tvmonitor',
  };
  const index = (PASCAL_CONTEXT_CLASSES as readonly string[]).indexOf(alias[name] ?? name);
  return Math.max(0, index);
});
