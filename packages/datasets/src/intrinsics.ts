/**
 * NYUv2's Kinect colour intrinsics (640×480), the reference for the synthetic world's cameras.
 * fx, fy, cx, cy in pixels with pixel centres at integers.
 */
export const NYUV2_INTRINSICS = {
  width: 640,
  height: 480,
  fx: 518.8579,
  fy: 519.4696,
  cx: 325.5824,
  cy: 253.7362,
} as const;

/**
 * NYUv2-like intrinsics scaled to an image of `height` × `width` (each axis scaled by its own factor,
 * pixel-centre exact: c' = (c + 0.5)·s − 0.5).
 *
 * @returns `[3,3]` row-major intrinsics.
 * @example
 * nyuv2Intrinsics(96, 128); // fx ≈ 103.77, cx ≈ 65.22
 */
export function nyuv2Intrinsics(height: number, width: number): Float64Array {
  const sx = width / NYUV2_INTRINSICS.width;
  const sy = height / NYUV2_INTRINSICS.height;
  return Float64Array.from([
    NYUV2_INTRINSICS.fx * sx,
    0,
    (NYUV2_INTRINSICS.cx + 0.5) * sx - 0.5,
    0,
    NYUV2_INTRINSICS.fy * sy,
    (NYUV2_INTRINSICS.cy + 0.5) * sy - 0.5,
    0,
    0,
    1,
  ]);
}
