/**
 * What the packages' benchmarks (`bench/*.bench.ts`, run by `pnpm bench`) share: command-line options,
 * timing, and the two-view handheld camera rig they run on. No tfjs or vitest here, so a bench can
 * import it under plain tsx.
 */

/** The command-line options of a bench: `--name` flags, `--name value` options, and `--json` output. */
export interface BenchArgs {
  /** True when `--name` is given. */
  flag(name: string): boolean;
  /** The value after `--name`, or `fallback`. */
  option(name: string, fallback: string): string;
  /** `--json`: print one JSON object at the end instead of text. */
  json: boolean;
  /** console.log, silenced under `--json` so that stdout is the JSON alone. */
  log(...message: unknown[]): void;
}

export function benchArgs(argv: readonly string[] = process.argv.slice(2)): BenchArgs {
  const flag = (name: string) => argv.includes(`--${name}`);
  const json = flag('json');
  return {
    flag,
    option(name, fallback) {
      const i = argv.indexOf(`--${name}`);
      return i >= 0 && argv[i + 1] ? argv[i + 1] : fallback;
    },
    json,
    log(...message) {
      if (!json) console.log(...message);
    },
  };
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Seconds taken by one call of `fn`. */
export async function timeOnce(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

/** Median seconds of `runs` calls of `fn`, after one untimed warm-up call (shader compilation, caches). */
export async function medianSeconds(fn: () => Promise<void>, runs: number): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await timeOnce(fn));
  return median(times);
}

/**
 * Bytes of the wasm backend's linear memory: it only grows, so this is the process's high-water mark
 * so far. Pass `tf.backend()` (this module does not import tfjs).
 */
export function wasmHeapBytes(wasmBackend: unknown): number {
  const m = (wasmBackend as { wasm: { wasmMemory?: WebAssembly.Memory; HEAPU8: Uint8Array } }).wasm;
  return (m.wasmMemory?.buffer ?? m.HEAPU8.buffer).byteLength;
}

/** A pinhole camera and two camera-to-world poses (view 0 at the origin), as plain arrays. */
export interface CameraRig {
  /** 3×3 intrinsics at the bench's resolution. */
  intrinsics: number[][];
  /** Camera-to-world 4×4 poses of view 0 and view 1 (OpenCV axes). */
  cameraToWorld: [number[][], number[][]];
}

/**
 * The benches' two-view setting: an NYUv2-like camera (518.8 px focal length at 640 px wide, scaled to
 * `width`; principal point at the image centre) and a handheld baseline between the views (15 cm
 * sideways, 2 cm down, 3 cm forward, 3° yaw).
 */
export function handheldTwoViewRig(height: number, width: number): CameraRig {
  const f = 518.8 * (width / 640);
  const yaw = 0.05;
  return {
    intrinsics: [
      [f, 0, (width - 1) / 2],
      [0, f, (height - 1) / 2],
      [0, 0, 1],
    ],
    cameraToWorld: [
      [
        [1, 0, 0, 0],
        [0, 1, 0, 0],
        [0, 0, 1, 0],
        [0, 0, 0, 1],
      ],
      [
        [Math.cos(yaw), 0, Math.sin(yaw), 0.15],
        [0, 1, 0, 0.02],
        [-Math.sin(yaw), 0, Math.cos(yaw), 0.03],
        [0, 0, 0, 1],
      ],
    ],
  };
}

/**
 * The benches' backend loop: activates each of `names` in turn with `activate` (e.g. `(name) =>
 * selectBackend([name])` from @cvm/backend, passed in so that this module needs no backend) and yields
 * the name once it is active; a backend that cannot be activated is logged as skipped, with the
 * reason, and passed over.
 * @example
 * for await (const backend of activeBackends(['wasm', 'cpu'], (b) => selectBackend([b]), log)) { … }
 */
export async function* activeBackends<Name extends string>(
  names: readonly string[],
  activate: (name: Name) => Promise<unknown>,
  log: (message: string) => void,
): AsyncGenerator<Name> {
  for (const name of names as readonly Name[]) {
    try {
      await activate(name);
    } catch (err) {
      log(`${name}: skipped (${(err as Error).message})`);
      continue;
    }
    yield name;
  }
}
