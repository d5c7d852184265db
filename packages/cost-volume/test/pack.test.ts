/**
 * `pnpm add @cvm/cost-volume` really works: pack @cvm/geometry and @cvm/cost-volume as npm would
 * publish them, install the tarballs (plus @tensorflow/tfjs from the registry) into a fresh project
 * outside the workspace, and run costVolume there with plain Node ESM.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const packages = resolve(here, '../..');
const work = mkdtempSync(join(tmpdir(), 'cvm-pack-'));

afterAll(() => rmSync(work, { recursive: true, force: true }));

function run(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

it('installs from packed tarballs and runs costVolume in plain Node', { timeout: 300_000 }, () => {
  for (const pkg of ['geometry', 'cost-volume']) {
    // pnpm pack rewrites workspace:* to the real version, as publishing does; build first so dist/ is current.
    run('pnpm', ['run', 'build'], join(packages, pkg));
    run('pnpm', ['pack', '--pack-destination', work], join(packages, pkg));
  }
  const tarballs = readdirSync(work).filter((f) => f.endsWith('.tgz'));
  expect(tarballs.sort()).toEqual(['cvm-cost-volume-0.0.0.tgz', 'cvm-geometry-0.0.0.tgz']);
  const app = join(work, 'app');
  run('mkdir', ['-p', app], work);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      ...tarballs.map((t) => join(work, t)),
      '@tensorflow/tfjs@4.22.0',
    ],
    app,
  );
  writeFileSync(
    join(app, 'main.js'),
    `import * as tf from '@tensorflow/tfjs';
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
`,
  );
  const out = JSON.parse(run('node', ['main.js'], app).trim().split('\n').pop()!);
  expect(out.shape).toEqual([1, 6, 8, 3]);
  // Identity pose: the warp is the identity, so every candidate holds <ref, nbr>/sqrt(C).
  for (const value of out.first) expect(value).toBeCloseTo(out.expected, 5);
});
