/**
 * One-to-one correspondence of predicted and ground-truth boundary pixels within a radius: a maximum-
 * cardinality bipartite matching (Hopcroft–Karp) on the graph joining pixels at Euclidean distance ≤ r.
 *
 * BSDS's `correspondPixels` solves a min-cost assignment (CSA) in which every unmatched pixel costs an
 * outlier cost of 100·r while a matched pair costs its distance (≤ r). Adding one more matched pair saves
 * ≥ 99·r, so its optimum has maximum cardinality except when the only augmenting paths are longer than
 * ~99 edges (their distance sum could then exceed the saving) — and its sparse random outlier graph may
 * rarely leave a match out. Precision and recall only use the number of matched pixels, which this
 * module computes exactly; the BSDS counts can only be lower, by a handful of pixels in rare cases.
 */

/** Integer offsets (dy, dx) with dy² + dx² ≤ r², nearest first. */
export function discOffsets(radius: number): { dy: Int32Array; dx: Int32Array } {
  const R = Math.ceil(radius);
  const list: [number, number, number][] = [];
  for (let dy = -R; dy <= R; dy++) {
    for (let dx = -R; dx <= R; dx++) {
      const d2 = dy * dy + dx * dx;
      if (d2 <= radius * radius) list.push([d2, dy, dx]);
    }
  }
  list.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
  return { dy: Int32Array.from(list, (e) => e[1]), dx: Int32Array.from(list, (e) => e[2]) };
}

/** Ground-truth side of the matching for one image, built once and reused for every threshold. */
export class BoundaryMatcher {
  readonly h: number;
  readonly w: number;
  readonly radius: number;
  /** Node id of each GT boundary pixel, -1 elsewhere, `[H*W]`. */
  readonly gtNode: Int32Array;
  /** Number of GT boundary pixels. */
  readonly gtCount: number;
  private readonly offY: Int32Array;
  private readonly offX: Int32Array;
  /** Flat pixel offsets of the disc (valid when the neighbour stays inside the image). */
  private readonly offP: Int32Array;
  /** The last matching, per predicted pixel: the GT node it was matched to, or -1 (warm start). */
  private readonly lastMatch: Int32Array;

  /**
   * @param gt binary GT boundary map `[H*W]` (non-zero = boundary)
   * @param radius matching radius in pixels (maxDist × image diagonal)
   */
  constructor(gt: ArrayLike<number>, h: number, w: number, radius: number) {
    this.h = h;
    this.w = w;
    this.radius = radius;
    this.gtNode = new Int32Array(h * w).fill(-1);
    let n = 0;
    for (let i = 0; i < h * w; i++) if (gt[i]) this.gtNode[i] = n++;
    this.gtCount = n;
    const { dy, dx } = discOffsets(radius);
    this.offY = dy;
    this.offX = dx;
    this.offP = Int32Array.from(dy, (v, k) => v * w + dx[k]);
    this.lastMatch = new Int32Array(h * w).fill(-1);
  }

  /**
   * Size of a maximum matching between the predicted pixels `pred` (flat indices y·W + x, each once) and the
   * GT pixels. Warm-started from the previous call's matching (exactness does not depend on the start).
   * When `matchedPred` is given, it receives 1 at every matched predicted pixel.
   */
  match(pred: ArrayLike<number>, matchedPred?: Uint8Array): number {
    const { w, h, gtNode, offY, offX, offP, lastMatch } = this;
    const K = offP.length;
    const nR = this.gtCount;
    const nL = pred.length;
    if (nL === 0 || nR === 0) {
      lastMatch.fill(-1);
      return 0;
    }
    const ly = new Int32Array(nL);
    const lx = new Int32Array(nL);
    // Neighbours are read through the disc offsets; rows near the border need bounds checks.
    const R = Math.ceil(this.radius);
    const interior = new Uint8Array(nL);
    for (let u = 0; u < nL; u++) {
      const p = pred[u];
      const y = (p / w) | 0;
      const x = p - y * w;
      ly[u] = y;
      lx[u] = x;
      interior[u] = y >= R && y < h - R && x >= R && x < w - R ? 1 : 0;
    }
    const neighbour = (u: number, k: number): number => {
      if (interior[u]) return gtNode[pred[u] + offP[k]];
      const yy = ly[u] + offY[k];
      const xx = lx[u] + offX[k];
      if (yy < 0 || yy >= h || xx < 0 || xx >= w) return -1;
      return gtNode[yy * w + xx];
    };

    const matchL = new Int32Array(nL).fill(-1);
    const matchR = new Int32Array(nR).fill(-1);
    // Warm start: keep the previous pairs whose predicted pixel is still there.
    for (let u = 0; u < nL; u++) {
      const g = lastMatch[pred[u]];
      if (g >= 0 && matchR[g] < 0) {
        matchL[u] = g;
        matchR[g] = u;
      }
    }
    lastMatch.fill(-1);
    // Greedy: nearest free GT pixel; also finds the predicted pixels with no GT in reach.
    const active: number[] = [];
    for (let u = 0; u < nL; u++) {
      if (matchL[u] >= 0) {
        active.push(u);
        continue;
      }
      let any = false;
      for (let k = 0; k < K; k++) {
        const v = neighbour(u, k);
        if (v < 0) continue;
        any = true;
        if (matchR[v] < 0) {
          matchL[u] = v;
          matchR[v] = u;
          break;
        }
      }
      if (any) active.push(u);
    }
    // Hopcroft–Karp phases over the predicted pixels that have GT in reach.
    const INF = 0x7fffffff;
    const dist = new Int32Array(nL);
    const it = new Int32Array(nL);
    const queue = new Int32Array(nL);
    const stack = new Int32Array(nL);
    for (;;) {
      let qh = 0;
      let qt = 0;
      for (const u of active) {
        if (matchL[u] < 0) {
          dist[u] = 0;
          queue[qt++] = u;
        } else dist[u] = INF;
      }
      if (qt === 0) break;
      let limit = INF;
      while (qh < qt) {
        const u = queue[qh++];
        if (dist[u] >= limit) continue;
        for (let k = 0; k < K; k++) {
          const v = neighbour(u, k);
          if (v < 0) continue;
          const u2 = matchR[v];
          if (u2 < 0) {
            if (limit === INF) limit = dist[u] + 1;
          } else if (dist[u2] === INF) {
            dist[u2] = dist[u] + 1;
            queue[qt++] = u2;
          }
        }
      }
      if (limit === INF) break;
      // Layered DFS (iterative) from every free predicted pixel.
      for (const root of active) {
        if (matchL[root] >= 0 || dist[root] !== 0) continue;
        let sp = 0;
        stack[sp++] = root;
        it[root] = 0;
        let found = -1;
        while (sp > 0 && found < 0) {
          const u = stack[sp - 1];
          let advanced = false;
          while (it[u] < K) {
            const v = neighbour(u, it[u]++);
            if (v < 0) continue;
            const u2 = matchR[v];
            if (u2 < 0) {
              if (dist[u] + 1 === limit) {
                found = v;
                break;
              }
            } else if (dist[u2] === dist[u] + 1 && dist[u2] < limit) {
              it[u2] = 0;
              stack[sp++] = u2;
              advanced = true;
              break;
            }
          }
          if (found >= 0) break;
          if (!advanced) {
            dist[u] = INF; // dead end for this phase
            sp--;
          }
        }
        if (found >= 0) {
          // Flip the path: stack[0..sp-1] are the predicted pixels, each takes the GT the next one held.
          let v = found;
          for (let i = sp - 1; i >= 0; i--) {
            const u = stack[i];
            const prev = matchL[u];
            matchL[u] = v;
            matchR[v] = u;
            v = prev;
          }
          for (let i = 0; i < sp; i++) dist[stack[i]] = INF; // used this phase
        }
      }
    }
    let size = 0;
    for (let u = 0; u < nL; u++) {
      const v = matchL[u];
      if (v >= 0) {
        size++;
        lastMatch[pred[u]] = v;
        if (matchedPred) matchedPred[pred[u]] = 1;
      }
    }
    return size;
  }
}
