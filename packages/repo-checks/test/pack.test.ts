/**
 * `npm install @cvm/<pkg>` really works, for every publishable package (every non-private
 * `packages/*`, found at run time so new packages are covered without editing this file): build and
 * pack each as publishing would, install the tarballs (plus @tensorflow/tfjs from the registry) into a
 * fresh project outside the workspace, import every entry of every exports map with plain Node ESM,
 * run costVolume, and run every package's bins (`cvm-datasets`) from node_modules/.bin.
 */
import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const work = mkdtempSync(join(tmpdir(), 'cvm-pack-'));
const app = join(work, 'app');
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  exports?: Record<string, unknown>;
  bin?: Record<string, string>;
}
const publishable = readdirSync(join(root, 'packages'))
  .map((dir) => join(root, 'packages', dir))
  .filter((dir) => existsSync(join(dir, 'package.json')))
  .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest }))
  .filter(({ manifest }) => !manifest.private);

/**
 * Runs a command and resolves with its stdout. Asynchronous on purpose: a synchronous child blocking the
 * worker for minutes times out vitest's worker RPC ("Timeout calling onTaskUpdate").
 */
async function run(cmd: string, args: string[], cwd: string): Promise<string> {
  return (await promisify(execFile)(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 1 << 26 })).stdout;
}

beforeAll(async () => {
  // turbo's cache makes this quick when `pnpm test` has built the packages already; pnpm pack rewrites
  // workspace:* to the real versions, as publishing does.
  await run(
    'pnpm',
    ['exec', 'turbo', 'run', 'build', ...publishable.map((p) => `--filter=${p.manifest.name}`)],
    root,
  );
  for (const { dir } of publishable) await run('pnpm', ['pack', '--pack-destination', work], dir);
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  const tarballs = readdirSync(work).filter((f) => f.endsWith('.tgz'));
  await run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      '--prefer-offline',
      ...tarballs.map((t) => join(work, t)),
      '@tensorflow/tfjs@4.22.0',
    ],
    app,
  );
}, 600_000);

describe('packed packages', () => {
  it('include the main packages', () => {
    const names = publishable.map((p) => p.manifest.name);
    for (const name of ['@cvm/geometry', '@cvm/cost-volume', '@cvm/backend', '@cvm/datasets'])
      expect(names).toContain(name);
  });

  it.for(publishable.map((p) => p.manifest))(
    '$name: every export entry imports in plain Node',
    async (manifest) => {
      const entries = Object.keys(manifest.exports ?? { '.': null })
        .filter((key) => key !== './package.json')
        .map((key) => manifest.name + key.slice(1));
      const script = `for (const e of ${JSON.stringify(entries)}) { const m = await import(e); console.log(e, Object.keys(m).length); }`;
      const lines = (await run('node', ['--input-type=module', '-e', script], app)).trim().split('\n');
      // Each entry exists in the tarball and exports something.
      expect(lines.map((l) => l.split(' ')[0])).toEqual(entries);
      for (const line of lines) expect(Number(line.split(' ')[1])).toBeGreaterThan(0);
    },
  );

  it('costVolume runs from the installed tarballs', async () => {
    const script = `import * as tf from '@tensorflow/tfjs';
import { costVolume } from '@cvm/cost-volume';
import { inverseDepthCandidates } from '@cvm/geometry';
await tf.setBackend('cpu');
const ref = tf.randomNormal([1, 6, 8, 4], 0, 1, 'float32', 1);
const nbr = tf.randomNormal([1, 6, 8, 4], 0, 1, 'float32', 2);
const K = [[10, 0, 3.5], [0, 10, 2.5], [0, 0, 1]];
const eye = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]];
const volume = costVolume(ref, [nbr], { intrinsics: K, poses: [eye], inverseDepths: inverseDepthCandidates(0.5, 10, 3) });
const expected = tf.div(tf.sum(tf.mul(ref, nbr), -1), 2);
const v = await volume.array();
const e = await expected.array();
console.log(JSON.stringify({ shape: volume.shape, first: v[0][1][2], expected: e[0][1][2] }));
`;
    const out = JSON.parse(
      (await run('node', ['--input-type=module', '-e', script], app)).trim().split('\n').pop()!,
    );
    expect(out.shape).toEqual([1, 6, 8, 3]);
    // Identity pose: the warp is the identity, so every candidate holds <ref, nbr>/sqrt(C).
    for (const value of out.first) expect(value).toBeCloseTo(out.expected, 5);
  });

  const bins = publishable.flatMap((p) => Object.keys(p.manifest.bin ?? {}));
  it('bins include cvm-datasets', () => expect(bins).toContain('cvm-datasets'));
  it.for(bins)('%s --help runs from node_modules/.bin', async (bin) => {
    expect(await run(join(app, 'node_modules/.bin', bin), ['--help'], app)).toMatch(
      new RegExp(`Usage: ${bin} `),
    );
  });

  it('cvm-datasets renders a tiny PASCAL-MT folder with worker threads (worker entry is in the tarball)', async () => {
    const out = join(work, 'rendered');
    await run(
      join(app, 'node_modules/.bin/cvm-datasets'),
      [
        'render',
        '--out',
        out,
        '--scenes',
        '2',
        '--size',
        '16x24',
        '--views',
        '1',
        '--workers',
        '1',
        '--layout',
        'pascal',
      ],
      app,
    );
    expect(readdirSync(join(out, 'JPEGImages'))).toHaveLength(2);
  });
});
