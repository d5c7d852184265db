/**
 * Boundary map of a label image, as BSDS's `seg2bmap` (used by SEISM for PASCAL-Context GT): a pixel is a
 * boundary when its label differs from its east, south or south-east neighbour; in the last row only the
 * east neighbour counts, in the last column only the south one, and the bottom-right pixel is never a
 * boundary. Boundaries thus sit half a pixel towards the origin from the true segment border.
 *
 * `labels`: `[H*W]` row-major; returns `[H*W]` 0/1.
 *
 * @example
 * boundariesFromLabels([1, 1, 2, 2], 2, 2); // Uint8Array [1, 1, 0, 0]
 */
export function boundariesFromLabels(labels: ArrayLike<number>, h: number, w: number): Uint8Array {
  if (labels.length !== h * w) {
    throw new Error(`boundariesFromLabels: expected ${h * w} labels for ${h}x${w}; got ${labels.length}`);
  }
  const b = new Uint8Array(h * w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const v = labels[i];
      const lastRow = y === h - 1;
      const lastCol = x === w - 1;
      if (lastRow && lastCol) continue;
      if (lastRow) b[i] = v !== labels[i + 1] ? 1 : 0;
      else if (lastCol) b[i] = v !== labels[i + w] ? 1 : 0;
      else b[i] = v !== labels[i + 1] || v !== labels[i + w] || v !== labels[i + w + 1] ? 1 : 0;
    }
  }
  return b;
}
