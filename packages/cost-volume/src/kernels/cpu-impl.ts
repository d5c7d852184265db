import { MIN_PROJECTED_DEPTH } from '@cvm/geometry';

/**
 * Plain typed-array implementation of the `CvmCostVolume` kernels (see `kernel-names.ts`), shared by
 * the cpu kernels and usable on its own (e.g. by a wasm kernel).
 *
 * Speed: consecutive candidates along an epipolar line read the same bilinear taps, so per reference
 * pixel the scaled dot products `⟨f_ref[p], f_nbr[q]⟩/√C` are memoised by neighbour pixel q (a
 * generation-stamped `seen` array of size H·W). The cost is ∝ distinct taps × C, not 4·L·C, and
 * nothing of size C·L·H·W is ever held.
 */

const f32 = Math.fround;
const MIN_Z = Math.fround(MIN_PROJECTED_DEPTH);

/** Sizes of one cost-volume call: features `[batch,height,width,channels]`, `depths` candidates. */
export interface CostVolumeSizes {
  batch: number;
  height: number;
  width: number;
  channels: number;
  depths: number;
}

/**
 * Neighbour coordinates `(u, v)` of pixel (x, y) for every candidate, rounded to float32 after every
 * step in the same order as the stock-op composite (`planeSweepCoordinatesFromProjection`), so both
 * paths sample at the same points.
 */
function projectPixel(
  x: number,
  y: number,
  proj: ArrayLike<number>,
  pOff: number,
  depths: Float32Array,
  us: Float64Array,
  vs: Float64Array,
): void {
  const qx = f32(f32(f32(proj[pOff] * x) + f32(proj[pOff + 1] * y)) + proj[pOff + 2]);
  const qy = f32(f32(f32(proj[pOff + 3] * x) + f32(proj[pOff + 4] * y)) + proj[pOff + 5]);
  const qz = f32(f32(f32(proj[pOff + 6] * x) + f32(proj[pOff + 7] * y)) + proj[pOff + 8]);
  const tx = proj[pOff + 9];
  const ty = proj[pOff + 10];
  const tz = proj[pOff + 11];
  for (let l = 0; l < depths.length; l++) {
    const d = depths[l];
    const pz = f32(f32(d * qz) + tz);
    const z = Math.max(pz, MIN_Z);
    us[l] = f32(f32(f32(d * qx) + tx) / z);
    vs[l] = f32(f32(f32(d * qy) + ty) / z);
  }
}

/**
 * `1/inverseDepths[b,:]` in float32, as `tf.reciprocal` gives; NaN for a candidate that is not finite
 * and > 0, so that all its samples fall outside (the op does not read tensor candidates to check them).
 */
function depthsOf(inverseDepths: ArrayLike<number>, b: number, out: Float32Array): Float32Array {
  const L = out.length;
  for (let l = 0; l < L; l++) {
    const iota = inverseDepths[b * L + l];
    out[l] = iota > 0 && iota < Number.POSITIVE_INFINITY ? 1 / iota : Number.NaN;
  }
  return out;
}

function dot(a: Float32Array, ai: number, b: Float32Array, bi: number, n: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    s0 += a[ai + i] * b[bi + i];
    s1 += a[ai + i + 1] * b[bi + i + 1];
    s2 += a[ai + i + 2] * b[bi + i + 2];
    s3 += a[ai + i + 3] * b[bi + i + 3];
  }
  for (; i < n; i++) s0 += a[ai + i] * b[bi + i];
  return s0 + s1 + s2 + s3;
}

/** Memoised `⟨ref[p], nbr[q]⟩·scale` for the current reference pixel p (bump `gen` per pixel). */
class TapDots {
  gen = 0;
  refOffset = 0;
  nbrBase = 0;
  private readonly seen: Int32Array;
  private readonly cache: Float64Array;

  constructor(
    pixels: number,
    private readonly ref: Float32Array,
    private readonly nbr: Float32Array,
    private readonly channels: number,
    private readonly scale: number,
  ) {
    this.seen = new Int32Array(pixels);
    this.cache = new Float64Array(pixels);
  }

  get(q: number): number {
    if (this.seen[q] === this.gen) return this.cache[q];
    const c = this.channels;
    const v = dot(this.ref, this.refOffset, this.nbr, this.nbrBase + q * c, c) * this.scale;
    this.seen[q] = this.gen;
    this.cache[q] = v;
    return v;
  }
}

/** Per reference pixel, the summed weight `W_q` of every distinct tap q (bump `gen` per pixel). */
class TapWeights {
  gen = 0;
  count = 0;
  readonly taps: Int32Array;
  readonly sums: Float64Array;
  private readonly seen: Int32Array;

  constructor(pixels: number, maxTaps: number) {
    this.seen = new Int32Array(pixels);
    this.sums = new Float64Array(pixels);
    this.taps = new Int32Array(maxTaps);
  }

  add(q: number, w: number): void {
    if (this.seen[q] === this.gen) {
      this.sums[q] += w;
    } else {
      this.seen[q] = this.gen;
      this.sums[q] = w;
      this.taps[this.count++] = q;
    }
  }
}

function checkLengths(s: CostVolumeSizes, arrays: Record<string, [ArrayLike<number>, number]>): void {
  for (const [name, [a, n]] of Object.entries(arrays)) {
    if (a.length !== n) throw new Error(`costVolume (cpu): ${name} has ${a.length} values, expected ${n}`);
  }
  if (s.height < 1 || s.width < 1 || s.channels < 1 || s.depths < 1) {
    throw new Error(`costVolume (cpu): empty sizes ${JSON.stringify(s)}`);
  }
}

/**
 * Forward pass of `CvmCostVolume` on typed arrays.
 * @param reference `[B,H,W,C]`
 * @param neighbour `[B,H,W,C]`
 * @param projection `[B,12]`: `A` (row-major 3×3) then `t`
 * @param inverseDepths `[B,L]`
 * @returns `[B,H,W,L]`
 * @example costVolumeCpu(ref, nbr, proj, inv, { batch: 1, height: 56, width: 72, channels: 128, depths: 128 })
 */
export function costVolumeCpu(
  reference: Float32Array,
  neighbour: Float32Array,
  projection: ArrayLike<number>,
  inverseDepths: ArrayLike<number>,
  sizes: CostVolumeSizes,
): Float32Array {
  const { batch: B, height: H, width: W, channels: C, depths: L } = sizes;
  const HW = H * W;
  checkLengths(sizes, {
    reference: [reference, B * HW * C],
    neighbour: [neighbour, B * HW * C],
    projection: [projection, B * 12],
    inverseDepths: [inverseDepths, B * L],
  });
  const out = new Float32Array(B * HW * L);
  const dots = new TapDots(HW, reference, neighbour, C, 1 / Math.sqrt(C));
  const depths = new Float32Array(L);
  const us = new Float64Array(L);
  const vs = new Float64Array(L);
  for (let b = 0; b < B; b++) {
    depthsOf(inverseDepths, b, depths);
    dots.nbrBase = b * HW * C;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const p = b * HW + y * W + x;
        projectPixel(x, y, projection, b * 12, depths, us, vs);
        dots.gen++;
        dots.refOffset = p * C;
        const o = p * L;
        for (let l = 0; l < L; l++) {
          const u = us[l];
          const v = vs[l];
          let s = 0;
          // Also rejects NaN and ±Infinity: such samples read only zero padding.
          if (u > -1 && u < W && v > -1 && v < H) {
            const x0 = Math.floor(u);
            const y0 = Math.floor(v);
            const ax = u - x0;
            const ay = v - y0;
            const bx = 1 - ax;
            const by = 1 - ay;
            const q = y0 * W + x0;
            if (y0 >= 0) {
              if (x0 >= 0) s += by * bx * dots.get(q);
              if (x0 < W - 1) s += by * ax * dots.get(q + 1);
            }
            if (y0 < H - 1) {
              if (x0 >= 0) s += ay * bx * dots.get(q + W);
              if (x0 < W - 1) s += ay * ax * dots.get(q + W + 1);
            }
          }
          out[o + l] = s;
        }
      }
    }
  }
  return out;
}

/**
 * Backward pass of `CvmCostVolume` on typed arrays: the gradients w.r.t. the two feature maps.
 * Per reference pixel p it sums `W_q = Σ_{l,tap=q} dy[p,l]·w/√C` over distinct taps q, then
 * `dReference[p] = Σ_q W_q·neighbour[q]` and `dNeighbour[q] += W_q·reference[p]`.
 * @param dy `[B,H,W,L]`
 * @returns `dReference`, `dNeighbour`, both `[B,H,W,C]`
 * @example const { dReference, dNeighbour } = costVolumeGradCpu(dy, ref, nbr, proj, inv, sizes)
 */
export function costVolumeGradCpu(
  dy: Float32Array,
  reference: Float32Array,
  neighbour: Float32Array,
  projection: ArrayLike<number>,
  inverseDepths: ArrayLike<number>,
  sizes: CostVolumeSizes,
): { dReference: Float32Array; dNeighbour: Float32Array } {
  const { batch: B, height: H, width: W, channels: C, depths: L } = sizes;
  const HW = H * W;
  checkLengths(sizes, {
    dy: [dy, B * HW * L],
    reference: [reference, B * HW * C],
    neighbour: [neighbour, B * HW * C],
    projection: [projection, B * 12],
    inverseDepths: [inverseDepths, B * L],
  });
  const dReference = new Float32Array(B * HW * C);
  // dNeighbour gathers contributions from many reference pixels: accumulate in float64.
  const dNbr = new Float64Array(B * HW * C);
  const acc = new Float64Array(C);
  const scale = 1 / Math.sqrt(C);
  const weights = new TapWeights(HW, 4 * L);
  const sums = weights.sums;
  const taps = weights.taps;
  const depths = new Float32Array(L);
  const us = new Float64Array(L);
  const vs = new Float64Array(L);
  for (let b = 0; b < B; b++) {
    depthsOf(inverseDepths, b, depths);
    const nBase = b * HW * C;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const p = b * HW + y * W + x;
        projectPixel(x, y, projection, b * 12, depths, us, vs);
        weights.gen++;
        weights.count = 0;
        const o = p * L;
        for (let l = 0; l < L; l++) {
          const u = us[l];
          const v = vs[l];
          if (!(u > -1 && u < W && v > -1 && v < H)) continue;
          const g = dy[o + l];
          const x0 = Math.floor(u);
          const y0 = Math.floor(v);
          const ax = u - x0;
          const ay = v - y0;
          const bx = 1 - ax;
          const by = 1 - ay;
          const q = y0 * W + x0;
          if (y0 >= 0) {
            if (x0 >= 0) weights.add(q, g * by * bx);
            if (x0 < W - 1) weights.add(q + 1, g * by * ax);
          }
          if (y0 < H - 1) {
            if (x0 >= 0) weights.add(q + W, g * ay * bx);
            if (x0 < W - 1) weights.add(q + W + 1, g * ay * ax);
          }
        }
        const r = p * C;
        acc.fill(0);
        for (let i = 0; i < weights.count; i++) {
          const q = taps[i];
          const w = sums[q] * scale;
          const n = nBase + q * C;
          for (let c = 0; c < C; c++) {
            acc[c] += w * neighbour[n + c];
            dNbr[n + c] += w * reference[r + c];
          }
        }
        for (let c = 0; c < C; c++) dReference[r + c] = acc[c];
      }
    }
  }
  return { dReference, dNeighbour: Float32Array.from(dNbr) };
}
