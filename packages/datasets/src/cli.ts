#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { exportSyntheticPascalMt } from './export-pascal.js';
import { exportSyntheticNyudMt } from './export.js';

const USAGE = `Usage: cvm-datasets render --out DIR --scenes N [options]

Renders N synthetic multi-view scenes and writes them as an NYUD-MT dataset folder
(images/, segmentation/, depth/, normals/, edge/, gt_sets/, multiview/<id>/ with COLMAP cameras),
or, with --layout pascal, as a PASCAL-MT folder (JPEGImages/, semseg/, human_parts/, sal_distill/,
normals_distill/, pascal-context/trainval/, ImageSets/, json/; reference views only).

Options:
  --out DIR            output folder (written atomically)
  --scenes N           total number of scenes (train + val)
  --val-fraction F     fraction of the scenes in the val split (default 0.2; at least 1 val scene when N >= 2)
  --seed S             world seed, integer in [0, 2^32) (default 0)
  --size HxW           image size (default 96x128)
  --views V            views per sample incl. the reference, 1..7 (default 3)
  --antialias A        RGB sub-samples per axis, 1..4 (default 1)
  --edge-radius R      boundary half-width in pixels (default 1)
  --workers W          worker threads (default 0 = main thread)
  --layout L           nyud (default) or pascal
  --colmap F           COLMAP model form for nyud: text (default) or binary
  --all-frames         nyud: also write every clip frame (7) for neighbour selection
  --overwrite          replace DIR if it exists
`;

function parseInteger(flag: string, value: string | undefined): number {
  if (value === undefined || !/^-?\d+$/.test(value))
    throw new Error(`${flag} expects an integer, got ${value === undefined ? 'nothing' : `'${value}'`}`);
  return Number(value);
}

/** Parsed `render` command. */
export interface RenderCommand {
  out: string;
  scenes: number;
  valFraction: number;
  seed: number;
  height: number;
  width: number;
  views: number;
  antialias: number;
  edgeRadius: number;
  workers: number;
  overwrite: boolean;
  layout: 'nyud' | 'pascal';
  colmap: 'text' | 'binary';
  allFrames: boolean;
}

/**
 * Parses the CLI arguments (without `node` and the script). Throws with a clear message on bad input.
 *
 * @example parseCliArgs(['render', '--out', 'syn', '--scenes', '10'])
 */
export function parseCliArgs(argv: readonly string[]): RenderCommand {
  const [command, ...rest] = argv;
  if (command !== 'render')
    throw new Error(
      command === undefined
        ? 'missing command (expected: render)'
        : `unknown command '${command}' (expected: render)`,
    );
  const cmd: Partial<RenderCommand> = {
    valFraction: 0.2,
    seed: 0,
    height: 96,
    width: 128,
    views: 3,
    antialias: 1,
    edgeRadius: 1,
    workers: 0,
    overwrite: false,
    layout: 'nyud',
    colmap: 'text',
    allFrames: false,
  };
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i];
    const value = rest[i + 1];
    const take = () => {
      i++;
      return value;
    };
    switch (flag) {
      case '--out':
        if (value === undefined || value.startsWith('--')) throw new Error('--out expects a folder');
        cmd.out = take();
        break;
      case '--scenes':
        cmd.scenes = parseInteger(flag, take());
        if (cmd.scenes < 1) throw new Error(`--scenes must be at least 1, got ${cmd.scenes}`);
        break;
      case '--val-fraction': {
        const f = Number(take());
        if (!(f >= 0 && f < 1)) throw new Error(`--val-fraction must be in [0, 1), got '${value}'`);
        cmd.valFraction = f;
        break;
      }
      case '--seed':
        cmd.seed = parseInteger(flag, take());
        break;
      case '--size': {
        const m = /^(\d+)x(\d+)$/.exec(take() ?? '');
        if (!m)
          throw new Error(
            `--size expects HxW (e.g. 96x128), got ${value === undefined ? 'nothing' : `'${value}'`}`,
          );
        cmd.height = Number(m[1]);
        cmd.width = Number(m[2]);
        break;
      }
      case '--views':
        cmd.views = parseInteger(flag, take());
        break;
      case '--antialias':
        cmd.antialias = parseInteger(flag, take());
        break;
      case '--edge-radius':
        cmd.edgeRadius = parseInteger(flag, take());
        break;
      case '--workers':
        cmd.workers = parseInteger(flag, take());
        break;
      case '--overwrite':
        cmd.overwrite = true;
        break;
      case '--layout': {
        const v = take();
        if (v !== 'nyud' && v !== 'pascal') throw new Error(`--layout expects nyud or pascal, got '${v}'`);
        cmd.layout = v;
        break;
      }
      case '--colmap': {
        const v = take();
        if (v !== 'text' && v !== 'binary') throw new Error(`--colmap expects text or binary, got '${v}'`);
        cmd.colmap = v;
        break;
      }
      case '--all-frames':
        cmd.allFrames = true;
        break;
      default:
        throw new Error(`unknown option '${flag}'`);
    }
  }
  if (cmd.out === undefined) throw new Error('--out is required');
  if (cmd.scenes === undefined) throw new Error('--scenes is required');
  return cmd as RenderCommand;
}

/**
 * Runs the CLI; returns the exit code (0 ok, 2 bad arguments, 1 failure). Messages go to `log` / `error`.
 */
export async function runCli(
  argv: readonly string[],
  io: { log: (s: string) => void; error: (s: string) => void } = { log: console.log, error: console.error },
): Promise<number> {
  if (argv.length === 0 || argv.includes('--help') || argv.includes('-h')) {
    io.log(USAGE);
    return argv.length === 0 ? 2 : 0;
  }
  let cmd: RenderCommand;
  try {
    cmd = parseCliArgs(argv);
  } catch (error) {
    io.error(`cvm-datasets: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const valScenes =
    cmd.scenes >= 2 ? Math.max(cmd.valFraction > 0 ? 1 : 0, Math.round(cmd.scenes * cmd.valFraction)) : 0;
  const start = performance.now();
  try {
    const common = {
      seed: cmd.seed,
      height: cmd.height,
      width: cmd.width,
      views: cmd.views,
      antialias: cmd.antialias,
      edgeRadius: cmd.edgeRadius,
      trainScenes: cmd.scenes - valScenes,
      valScenes,
      workers: cmd.workers,
      overwrite: cmd.overwrite,
    };
    const ids =
      cmd.layout === 'pascal'
        ? await exportSyntheticPascalMt(cmd.out, common)
        : await exportSyntheticNyudMt(cmd.out, {
            ...common,
            colmap: cmd.colmap,
            allClipFrames: cmd.allFrames,
          });
    const seconds = (performance.now() - start) / 1000;
    io.log(
      `wrote ${ids.train.length} train + ${ids.val.length} val samples (${cmd.layout === 'pascal' ? 'PASCAL-MT' : `NYUD-MT, ${cmd.views} views each`}) to ${cmd.out} in ${seconds.toFixed(1)} s`,
    );
    return 0;
  } catch (error) {
    io.error(`cvm-datasets: ${(error as Error).message}`);
    return 1;
  }
}

const invokedDirectly = (() => {
  try {
    return (
      process.argv[1] !== undefined &&
      realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))
    );
  } catch {
    return false;
  }
})();
if (invokedDirectly) process.exitCode = await runCli(process.argv.slice(2));
