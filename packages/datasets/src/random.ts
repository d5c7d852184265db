/**
 * Seeded pseudo-random numbers that give the same sequence on every machine: integer arithmetic only
 * (`Math.imul`, shifts), so a seed fixes every byte the synthetic world renders. `Math.random` is never used.
 */

/**
 * Mixes any number of 32-bit integers into one well-distributed 32-bit seed (a murmur3-style finaliser
 * applied after each input). Used to derive per-scene and per-object seeds from the world seed.
 *
 * @example
 * const sceneSeed = hashSeeds(worldSeed, 1, sceneIndex); // uint32
 */
export function hashSeeds(...values: number[]): number {
  let h = 0x9e3779b9;
  for (const value of values) {
    h = Math.imul(h ^ (value | 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    h = (h + 0x6d2b79f5) | 0;
  }
  return h >>> 0;
}

/** Hashes three lattice coordinates and a seed to a float in [0, 1) (value noise lattice values). */
export function hash3(ix: number, iy: number, iz: number, seed: number): number {
  let h = Math.imul(ix, 0x27d4eb2d) ^ Math.imul(iy, 0x165667b1) ^ Math.imul(iz, 0x9e3779b1) ^ seed;
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
  h ^= h >>> 15;
  return (h >>> 0) / 4294967296;
}

/**
 * A small seeded generator (mulberry32). Deterministic across runs and machines.
 *
 * @example
 * const rng = new Rng(42);
 * rng.uniform(0.5, 2); // same value on every machine
 */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** A float in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** An element of `items`. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** -1 or +1. */
  sign(): number {
    return this.next() < 0.5 ? -1 : 1;
  }

  /** A fresh uint32 seed (to derive independent child generators). */
  seed(): number {
    return Math.floor(this.next() * 4294967296) >>> 0;
  }
}
