import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { checkChangesets } from '../src/changesets.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const tmp = mkdtempSync(join(tmpdir(), 'cvm-changesets-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let workspaces = 0;
/** A pnpm workspace with a publishable `@x/a`, a private `@x/tools`, and the given changesets. */
function workspace(changesets: Record<string, string>): string {
  const root = join(tmp, `ws${workspaces++}`);
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  write('package.json', JSON.stringify({ name: 'root', private: true }));
  write('pnpm-workspace.yaml', 'packages:\n  - "packages/*"\n');
  write('packages/a/package.json', JSON.stringify({ name: '@x/a', version: '1.0.0' }));
  write('packages/tools/package.json', JSON.stringify({ name: '@x/tools', version: '0.0.0', private: true }));
  write('.changeset/config.json', JSON.stringify({ baseBranch: 'main', access: 'public' }));
  write('.changeset/README.md', 'Not a changeset.');
  for (const [file, text] of Object.entries(changesets)) write(`.changeset/${file}`, text);
  return root;
}

describe('checkChangesets', () => {
  it("accepts this repository's changesets", async () => {
    const releases = await checkChangesets(repoRoot);
    for (const type of releases.values()) expect(['major', 'minor', 'patch']).toContain(type);
  });

  it('returns the release plan of valid changesets', async () => {
    const root = workspace({ 'one.md': '---\n"@x/a": minor\n---\n\nA feature.\n' });
    expect(await checkChangesets(root)).toEqual(new Map([['@x/a', 'minor']]));
  });

  it('rejects front matter turned into a Markdown heading (the broken datasets changeset), naming the file', async () => {
    const root = workspace({
      'good.md': '---\n"@x/a": patch\n---\n\nA fix.\n',
      'broken.md': '---\n\n## "@x/a": minor\n\nPASCAL-MT reader.\n',
    });
    await expect(checkChangesets(root)).rejects.toThrow(
      /broken\.md: could not parse changeset - missing or invalid frontmatter/,
    );
  });

  it('rejects unknown or private packages, bad bump types, and changesets without packages or summary', async () => {
    const cases: Array<[string, RegExp]> = [
      ['---\n"@x/b": minor\n---\n\nText.\n', /"@x\/b" is not a publishable workspace package/],
      ['---\n"@x/tools": minor\n---\n\nText.\n', /"@x\/tools" is not a publishable workspace package/],
      ['---\n"@x/a": huge\n---\n\nText.\n', /invalid version type "huge"/],
      ['---\n---\n\nText.\n', /names no package/],
      ['---\n"@x/a": minor\n---\n', /has no summary/],
    ];
    for (const [text, message] of cases)
      await expect(checkChangesets(workspace({ 'c.md': text }))).rejects.toThrow(message);
  });

  it('the changesets are left alone by `pnpm format` (Biome reads front matter as a heading: that broke the datasets changeset)', () => {
    // Check mode over the real changesets: exits non-zero if Biome would rewrite any of them.
    expect(() =>
      execFileSync('pnpm', ['exec', 'biome', 'format', '.changeset'], { cwd: repoRoot, stdio: 'pipe' }),
    ).not.toThrow();
  });
});
