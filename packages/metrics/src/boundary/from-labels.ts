import { thin } from './thin.js';

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

/**
 * Boundary ground truth as SEISM prepares it for the protocol: `bwmorph(seg2bmap(G), 'thin', Inf)`
 * (SAK's SEISM fork, `src/piotr_edges/edgesEvalImg.m`, applied to every ground truth that `db_gt` returns:
 * PASCAL-Context's relabelled `LabelMap` and NYUD's `groundTruth{1}.Boundaries`). A label map gives its
 * segment borders, one pixel wide. A binary boundary map is treated as a two-label map, so `seg2bmap`
 * marks both sides of each line (a 2-pixel band) and the thinning brings it back to one pixel, not always
 * on the same pixels (a horizontal segment comes back one pixel to the left, towards the origin).
 *
 * `labels`: `[H*W]` row-major segment ids (or a 0/1 boundary map); returns `[H*W]` 0/1.
 *
 * @example
 * seismGroundTruth(labelMap, 448, 576); // what SEISM matches the predictions against
 */
export function seismGroundTruth(labels: ArrayLike<number>, h: number, w: number): Uint8Array {
  return thin(boundariesFromLabels(labels, h, w), h, w);
}
