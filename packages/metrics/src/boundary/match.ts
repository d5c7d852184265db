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
  /** Number of GT boundary pixels. */
  readonly gtCount: number;
  private readonly offY: Int32Array;
  private readonly offX: Int32Array;
  /** GT node of each pixel, -1 elsewhere. */
  private readonly gtNode: Int32Array;
  /** 1 where some GT pixel lies within the radius. */
  private readonly nearGt: Uint8Array;
  /**
   * Per pixel, the GT nodes within the radius, nearest first: `pool[adjStart[p] .. adjEnd[p]]`, built the
   * first time the pixel is predicted and kept for the other thresholds (the GT does not change).
   */
  private readonly adjStart: Int32Array;
  private readonly adjEnd: Int32Array;
  private pool = new Int32Array(1 << 16);
  private used = 0;
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
    const { dy, dx } = discOffsets(radius);
    this.offY = dy;
    this.offX = dx;
    this.gtNode = new Int32Array(h * w).fill(-1);
    this.nearGt = new Uint8Array(h * w);
    let n = 0;
    for (let p = 0; p < h * w; p++) {
      if (!gt[p]) continue;
      this.gtNode[p] = n++;
      const y = (p / w) | 0;
      const x = p - y * w;
      for (let k = 0; k < dy.length; k++) {
        const yy = y + dy[k];
        const xx = x + dx[k];
        if (yy >= 0 && yy < h && xx >= 0 && xx < w) this.nearGt[yy * w + xx] = 1;
      }
    }
    this.gtCount = n;
    this.adjStart = new Int32Array(h * w).fill(-1);
    this.adjEnd = new Int32Array(h * w);
    this.lastMatch = new Int32Array(h * w).fill(-1);
  }

  /** Builds the GT neighbour list of pixel p if needed. */
  private build(p: number): void {
    if (this.adjStart[p] >= 0) return;
    const { w, h, offY, offX, gtNode } = this;
    const K = offY.length;
    if (this.used + K > this.pool.length) {
      const bigger = new Int32Array(Math.max(2 * this.pool.length, this.used + K));
      bigger.set(this.pool.subarray(0, this.used));
      this.pool = bigger;
    }
    const pool = this.pool;
    let used = this.used;
    this.adjStart[p] = used;
    const y = (p / w) | 0;
    const x = p - y * w;
    for (let k = 0; k < K; k++) {
      const yy = y + offY[k];
      const xx = x + offX[k];
      if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
      const v = gtNode[yy * w + xx];
      if (v >= 0) pool[used++] = v;
    }
    this.adjEnd[p] = used;
    this.used = used;
  }

  /**
   * Size of a maximum matching between the predicted pixels `pred` (flat indices y·W + x, each once) and the
   * GT pixels. Starts from the previous call's matching (restricted to pixels still predicted) and a greedy
   * nearest-first pass, then runs Hopcroft–Karp from the free predicted pixels that have GT in reach. The
   * start only affects speed: the size found is the maximum.
   * When `matchedPred` is given, it receives 1 at every matched predicted pixel.
   */
  match(pred: ArrayLike<number>, matchedPred?: Uint8Array): number {
    const { lastMatch, nearGt } = this;
    const nR = this.gtCount;
    const nL = pred.length;
    if (nL === 0 || nR === 0) {
      lastMatch.fill(-1);
      return 0;
    }
    const matchL = new Int32Array(nL).fill(-1); // predicted -> GT
    const matchR = new Int32Array(nR).fill(-1); // GT -> predicted
    let size = 0;
    const roots: number[] = [];
    for (let u = 0; u < nL; u++) {
      const p = pred[u];
      if (!nearGt[p]) continue;
      this.build(p);
      const g = lastMatch[p];
      if (g >= 0 && matchR[g] < 0) {
        matchL[u] = g;
        matchR[g] = u;
        size++;
      } else roots.push(u);
    }
    lastMatch.fill(-1);
    const start = this.adjStart;
    const end = this.adjEnd;
    const pool = this.pool;
    // Greedy rounds: in round j every free predicted pixel tries its j-th nearest GT pixel.
    let list = roots;
    for (let j = 0; list.length > 0 && size < nR; j++) {
      const still: number[] = [];
      for (const u of list) {
        const p = pred[u];
        const at = start[p] + j;
        if (at >= end[p]) continue; // exhausted: stays free, still a root below
        const v = pool[at];
        if (matchR[v] < 0) {
          matchL[u] = v;
          matchR[v] = u;
          size++;
        } else still.push(u);
      }
      list = still;
    }
    const free = roots.filter((u) => matchL[u] < 0);
    if (free.length > 0 && size < nR) {
      const freeGt: number[] = [];
      for (let v = 0; v < nR; v++) if (matchR[v] < 0) freeGt.push(v);
      if (freeGt.length >= free.length) {
        size += hopcroftKarp(nL, (u) => pred[u], start, end, pool, matchL, matchR, free);
      } else {
        // Fewer free GT pixels (noisy low thresholds): search from them over the reversed lists.
        const rStart = new Int32Array(nR + 1);
        for (let u = 0; u < nL; u++) {
          const p = pred[u];
          if (!nearGt[p]) continue;
          for (let j = start[p]; j < end[p]; j++) rStart[pool[j] + 1]++;
        }
        for (let v = 0; v < nR; v++) rStart[v + 1] += rStart[v];
        const fill = rStart.slice(0, nR);
        const rPool = new Int32Array(rStart[nR]);
        for (let u = 0; u < nL; u++) {
          const p = pred[u];
          if (!nearGt[p]) continue;
          for (let j = start[p]; j < end[p]; j++) rPool[fill[pool[j]]++] = u;
        }
        const rEnd = rStart.subarray(1);
        size += hopcroftKarp(nR, (v) => v, rStart, rEnd, rPool, matchR, matchL, freeGt);
      }
    }
    for (let u = 0; u < nL; u++) {
      const v = matchL[u];
      if (v >= 0) {
        lastMatch[pred[u]] = v;
        if (matchedPred) matchedPred[pred[u]] = 1;
      }
    }
    return size;
  }
}

/**
 * Hopcroft–Karp augmentation from side A, extending a given matching. Node a's neighbours (side B) are
 * `pool[start[key(a)] .. end[key(a)]]`; augmenting paths start at the free nodes listed in `roots`.
 * Returns how many pairs were added.
 */
function hopcroftKarp(
  nA: number,
  key: (a: number) => number,
  start: Int32Array,
  end: Int32Array,
  pool: Int32Array,
  matchA: Int32Array,
  matchB: Int32Array,
  roots: readonly number[],
): number {
  const INF = 0x7fffffff;
  const dist = new Int32Array(nA);
  const it = new Int32Array(nA);
  const queue = new Int32Array(nA);
  const stack = new Int32Array(nA);
  let added = 0;
  for (;;) {
    let qh = 0;
    let qt = 0;
    dist.fill(INF);
    for (const a of roots) {
      if (matchA[a] < 0) {
        dist[a] = 0;
        queue[qt++] = a;
      }
    }
    if (qt === 0) break;
    let limit = INF;
    while (qh < qt) {
      const a = queue[qh++];
      if (dist[a] >= limit) continue;
      const ka = key(a);
      for (let j = start[ka], e = end[ka]; j < e; j++) {
        const a2 = matchB[pool[j]];
        if (a2 < 0) {
          if (limit === INF) limit = dist[a] + 1;
        } else if (dist[a2] === INF) {
          dist[a2] = dist[a] + 1;
          queue[qt++] = a2;
        }
      }
    }
    if (limit === INF) break;
    // Layered DFS (iterative) from every free root: vertex-disjoint shortest augmenting paths.
    for (const root of roots) {
      if (matchA[root] >= 0 || dist[root] !== 0) continue;
      let sp = 0;
      stack[sp++] = root;
      it[root] = start[key(root)];
      let found = -1;
      while (sp > 0) {
        const a = stack[sp - 1];
        let advanced = false;
        const e = end[key(a)];
        while (it[a] < e) {
          const b = pool[it[a]++];
          const a2 = matchB[b];
          if (a2 < 0) {
            if (dist[a] + 1 === limit) {
              found = b;
              break;
            }
          } else if (dist[a2] === dist[a] + 1 && dist[a2] < limit) {
            it[a2] = start[key(a2)];
            stack[sp++] = a2;
            advanced = true;
            break;
          }
        }
        if (found >= 0) break;
        if (!advanced) {
          dist[a] = INF; // dead end for this phase
          sp--;
        }
      }
      if (found >= 0) {
        // stack[0..sp-1] are predicted nodes; each takes the GT node through which the next one was reached.
        let b = found;
        for (let i = sp - 1; i >= 0; i--) {
          const a = stack[i];
          const prev = matchA[a];
          matchA[a] = b;
          matchB[b] = a;
          b = prev;
        }
        for (let i = 0; i < sp; i++) dist[stack[i]] = INF;
        added++;
      }
    }
  }
  return added;
}
