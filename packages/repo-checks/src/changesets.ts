import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import getReleasePlan from '@changesets/get-release-plan';
import parseChangeset from '@changesets/parse';
import { getPackages } from '@manypkg/get-packages';

/** What `changeset version` would do with the pending changesets: package name → bump type. */
export type PendingReleases = Map<string, string>;

/**
 * Checks every `.changeset/*.md` under `root` as `changeset version` and `changeset publish` will read
 * them, without git: each file has front matter that `@changesets/parse` accepts, names at least one
 * package, names only non-private workspace packages, and has a summary; then the release plan
 * assembles. Unlike `changeset status`, this needs no base branch, so it works in any checkout.
 * @throws an Error listing every bad file and what is wrong with it
 */
export async function checkChangesets(root: string): Promise<PendingReleases> {
  const { packages } = await getPackages(root);
  const publishable = new Set(packages.filter((p) => !p.packageJson.private).map((p) => p.packageJson.name));
  const dir = join(root, '.changeset');
  const files = readdirSync(dir).filter((f) => f.endsWith('.md') && !/^readme\.md$/i.test(f));
  const problems: string[] = [];
  for (const file of files.sort()) {
    let parsed: ReturnType<typeof parseChangeset>;
    try {
      parsed = parseChangeset(readFileSync(join(dir, file), 'utf8'));
    } catch (e) {
      // The parser's message does not name the file; its first line says what is wrong.
      problems.push(`${file}: ${(e as Error).message.split('\n')[0]}`);
      continue;
    }
    if (parsed.releases.length === 0) problems.push(`${file}: names no package in its front matter`);
    for (const { name } of parsed.releases)
      if (!publishable.has(name)) problems.push(`${file}: "${name}" is not a publishable workspace package`);
    if (parsed.summary === '') problems.push(`${file}: has no summary below the front matter`);
  }
  if (problems.length > 0)
    throw new Error(
      `Bad changesets in ${dir}:\n  ${problems.join('\n  ')}\n` +
        'A changeset is front matter, then a summary:\n---\n"@cvm/pkg": minor\n---\n\nWhat changed.',
    );
  const plan = await getReleasePlan(root);
  return new Map(plan.releases.filter((r) => r.type !== 'none').map((r) => [r.name, r.type]));
}
