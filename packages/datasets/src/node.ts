/**
 * Node-only API (file formats, dataset export and reading, worker threads, CLI): `@cvm/datasets/node`.
 * The main entry stays free of `node:` imports so the synthetic world also runs in browsers.
 */
export * from './index.js';
export { renderSamples, sampleBuffers } from './synthetic/parallel.js';
export type { SampleRequest } from './synthetic/parallel.js';
export { exportSyntheticNyudMt, writeNyudMtSample } from './export.js';
export type { ExportSyntheticOptions } from './export.js';
export {
  NYUD_MT_LAYOUT,
  decodeEdge,
  decodeNormals,
  decodeNyudSemseg,
  decodeRgb,
  encodeEdge,
  encodeNormals,
  encodeNyudSemseg,
  encodeRgb,
  readMultiViewFrames,
  readNyudMtSample,
  readNyudMtSplit,
} from './formats/nyud-mt.js';
export type { ReadNyudMtOptions } from './formats/nyud-mt.js';
export { decodeNpy, encodeNpy } from './formats/npy.js';
export type { NpyArray } from './formats/npy.js';
export { decodePng, encodePng } from './formats/png.js';
export type { DecodedImage } from './formats/png.js';
export {
  colmapCameraIntrinsics,
  colmapImagePose,
  formatColmapCameras,
  formatColmapImages,
  formatColmapPoints,
  parseColmapText,
  quaternionToRotation,
  rotationToQuaternion,
  viewToColmap,
} from './formats/colmap.js';
export type { ColmapCamera, ColmapImage, ColmapModel, ColmapModelName } from './formats/colmap.js';
export { parseCliArgs, runCli } from './cli.js';
export type { RenderCommand } from './cli.js';
