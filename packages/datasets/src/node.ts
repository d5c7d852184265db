/**
 * Node-only API (file formats, dataset export and reading, worker threads, CLI): `@cvm/datasets/node`.
 * The main entry stays free of `node:` imports so the synthetic world also runs in browsers.
 */
export * from './index.js';
export { renderSamples, sampleBuffers } from './synthetic/parallel.js';
export type { SampleRequest } from './synthetic/parallel.js';
export { exportSyntheticNyudMt, writeFolderAtomically, writeNyudMtSample } from './export.js';
export type { ExportSyntheticOptions, WriteNyudMtOptions } from './export.js';
export {
  NYUD40_TO_CONTEXT_459_NAME,
  PASCAL_CONTEXT_459_IDS,
  exportSyntheticPascalMt,
  writePascalMtSample,
} from './export-pascal.js';
export type { WritePascalMtOptions } from './export-pascal.js';
export {
  HUMAN_PART_GROUPS,
  PASCAL_MT_LAYOUT,
  PASCAL_PERSON_CATEGORY,
  PascalMtDataset,
  decodeSaliency,
  encodeSaliency,
  normalsValidClasses,
  partObjectClasses,
  pascalContextEdges,
  readPascalMtSample,
  readPascalMtSplit,
} from './formats/pascal-mt.js';
export type { PascalMtOptions } from './formats/pascal-mt.js';
export { matChar, matField, matNumeric, matStruct, readMat, writeMat } from './formats/mat.js';
export type { MatArray, MatCell, MatChar, MatNumeric, MatNumericClass, MatStruct } from './formats/mat.js';
export { decodeJpeg, encodeJpeg } from './formats/jpeg.js';
export { readColmapModel, readMultiViewFrames, selectViews } from './formats/multiview.js';
export type { MultiViewOptions, NeighbourSelection } from './formats/multiview.js';
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
  readNyudMtSample,
  readNyudMtSplit,
} from './formats/nyud-mt.js';
export type { ReadNyudMtOptions } from './formats/nyud-mt.js';
export { decodeNpy, encodeNpy } from './formats/npy.js';
export type { NpyArray } from './formats/npy.js';
export { parseCliArgs, runCli } from './cli.js';
export type { RenderCommand } from './cli.js';
export { DataLoader } from './pipeline/loader.js';
export type { DataLoaderOptions } from './pipeline/loader.js';
export { openSource } from './pipeline/sources.js';
export type { SampleSource, SourceSpec } from './pipeline/sources.js';
