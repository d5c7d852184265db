export {
  IGNORE_LABEL,
  NYUD40_CLASSES,
  NYUD40_TO_PASCAL_CONTEXT,
  PASCAL_CONTEXT_CLASSES,
  PASCAL_PART_CLASSES,
  nyud40Id,
} from './classes.js';
export type { Nyud40ClassName } from './classes.js';
export { NYUD_TASKS, PASCAL_TASKS, TASK_NAMES } from './schema.js';
export type { MultiViewSample, SampleView, TaskLabels, TaskName } from './schema.js';
export { Rng, hashSeeds } from './random.js';
export { NYUV2_INTRINSICS, nyuv2Intrinsics } from './intrinsics.js';
export { semanticBoundaries } from './boundaries.js';
export { SPLITS, SyntheticWorld, resolveWorldOptions } from './synthetic/world.js';
export type { ResolvedWorldOptions, Split, SyntheticWorldOptions } from './synthetic/world.js';
export { CLIP_HALF_LENGTH, buildScene } from './synthetic/scene.js';
export type { ClipFrame, PointLight, Room, SceneDescription, SceneOptions } from './synthetic/scene.js';
export { compileScene, renderView } from './synthetic/render.js';
export type { CompiledScene, RenderedView } from './synthetic/render.js';
export type { Primitive, PrimitiveKindName } from './synthetic/primitives.js';
export type { Material, TextureKindName } from './synthetic/texture.js';
export {
  addIgnoreRegions,
  applyPhotometric,
  cropSample,
  drawPhotometric,
  flipSample,
  padSample,
  randomCropLocation,
  resizeSample,
  transformSample,
} from './pipeline/transforms.js';
export type { PhotometricParams, PipelineOptions } from './pipeline/transforms.js';
export { collate } from './pipeline/batch.js';
export type { Batch } from './pipeline/batch.js';
export { decodePng, encodePng } from './formats/png.js';
export type { DecodedImage, Palette } from './formats/png.js';
// COLMAP text and binary models (pure: no file access; `readColmapModel` in ./node reads a folder).
export {
  colmapCameraIntrinsics,
  colmapImagePose,
  colmapViewCamera,
  encodeColmapCamerasBinary,
  encodeColmapImagesBinary,
  encodeColmapPointsBinary,
  formatColmapCameras,
  formatColmapImages,
  formatColmapPoints,
  parseColmapBinary,
  parseColmapText,
  quaternionToRotation,
  rotationToQuaternion,
  viewToColmap,
} from './formats/colmap.js';
export type {
  ColmapCamera,
  ColmapImage,
  ColmapModel,
  ColmapModelName,
  ColmapViewCamera,
} from './formats/colmap.js';
export { colorizeTask, depthColor, vocPalette } from './colormaps.js';
export type { ColorizeOptions } from './colormaps.js';
