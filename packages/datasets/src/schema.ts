/**
 * The one sample schema every source (synthetic world, NYUD-MT, PASCAL-MT, multi-view NYUv2) produces.
 *
 * A sample is a group of V ≥ 1 views of one scene; `views[0]` is the reference view, the one whose labels
 * are supervised. Arrays are flat, row-major, channels last (HWC), matching tfjs's NHWC tensors.
 */

/** Every dense task a source may label. */
export const TASK_NAMES = ['semseg', 'depth', 'normals', 'edge', 'human_parts', 'sal'] as const;
export type TaskName = (typeof TASK_NAMES)[number];

/** The NYUD-v2 4-task setup. */
export const NYUD_TASKS: readonly TaskName[] = ['semseg', 'depth', 'normals', 'edge'];
/** The PASCAL-Context 5-task setup. */
export const PASCAL_TASKS: readonly TaskName[] = ['semseg', 'human_parts', 'sal', 'normals', 'edge'];

/**
 * Dense labels of one view. Each present array is `[H,W]` (or `[H,W,3]` for normals), flat row-major.
 * Invalid / ignored conventions:
 * - `semseg`: int32 class ids (NYUD-40 0..39 or PASCAL-Context 0..20), 255 = ignore.
 * - `depth`: float32 z-depth in metres along the camera's +z axis, 0 = invalid.
 * - `normals`: float32 unit vectors in the camera frame (OpenCV axes), facing the camera; (0,0,0) = invalid.
 * - `edge`: uint8 0/1 semantic boundaries, 255 = ignore.
 * - `human_parts`: int32 0 (background) .. 6, 255 = ignore (e.g. images without a person).
 * - `sal`: uint8 0/1 saliency, 255 = ignore.
 */
export interface TaskLabels {
  semseg?: Int32Array;
  depth?: Float32Array;
  normals?: Float32Array;
  edge?: Uint8Array;
  human_parts?: Int32Array;
  sal?: Uint8Array;
}

/** One view: image, camera, and optionally its labels (always present on the reference view). */
export interface SampleView {
  /** float32 `[H,W,3]` RGB in [0, 1]. */
  rgb: Float32Array;
  /** Intrinsics `[3,3]` row-major, in pixels at this view's resolution; pixel centres at integers. */
  intrinsics: Float64Array;
  /** Camera-to-world pose `[4,4]` row-major, OpenCV axes (+x right, +y down, +z forward). */
  cameraToWorld: Float64Array;
  labels?: TaskLabels;
  /**
   * Lens distortion of the camera that took the image (COLMAP OPENCV: [k1, k2, p1, p2]; SIMPLE_RADIAL:
   * [k]; RADIAL: [k1, k2]), in normalised image coordinates. Exposed, never applied: `rgb` is the image
   * as stored (not undistorted), and `intrinsics` is the model's pinhole part.
   */
  distortion?: { model: string; coefficients: number[] };
  /** Name of the frame within its source (file name, video frame), for tracing. */
  name?: string;
}

/** A group of views of one scene; `views[0]` is the reference. All views share `height` × `width`. */
export interface MultiViewSample {
  id: string;
  height: number;
  width: number;
  views: SampleView[];
}
