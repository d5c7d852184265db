/**
 * Semantic boundaries from a label map, as in the NYUD-MT / PASCAL-MT edge ground truth: a pixel is a
 * boundary pixel when some pixel within `radius` (Chebyshev distance) has a different label, so the band
 * along each label discontinuity is 2·radius pixels wide (radius on each side). Ignored pixels (255)
 * neither create nor receive boundaries; they are marked 255 in the result.
 *
 * @param labels int32 `[H,W]` labels (255 = ignore).
 * @param radius half-width of the band in pixels (integer ≥ 1).
 * @returns uint8 `[H,W]`: 1 boundary, 0 not, 255 ignore.
 *
 * @example
 * const edge = semanticBoundaries(view.labels.semseg, 96, 128, 1);
 */
export function semanticBoundaries(
  labels: Int32Array,
  height: number,
  width: number,
  radius = 1,
): Uint8Array {
  if (!Number.isInteger(radius) || radius < 1)
    throw new Error(`semanticBoundaries: radius must be an integer ≥ 1, got ${radius}`);
  if (labels.length !== height * width)
    throw new Error(
      `semanticBoundaries: labels has ${labels.length} values, expected height·width = ${height * width}`,
    );
  const out = new Uint8Array(height * width);
  for (let y = 0; y < height; y++) {
    const y0 = Math.max(0, y - radius);
    const y1 = Math.min(height - 1, y + radius);
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const own = labels[i];
      if (own === 255) {
        out[i] = 255;
        continue;
      }
      const x0 = Math.max(0, x - radius);
      const x1 = Math.min(width - 1, x + radius);
      let edge = 0;
      for (let yy = y0; yy <= y1 && edge === 0; yy++) {
        const row = yy * width;
        for (let xx = x0; xx <= x1; xx++) {
          const other = labels[row + xx];
          if (other !== own && other !== 255) {
            edge = 1;
            break;
          }
        }
      }
      out[i] = edge;
    }
  }
  return out;
}
