/** `pnpm check:changesets` (run by `pnpm test`): fails when a changeset would break `changeset version`. */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkChangesets } from './changesets.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
try {
  const releases = await checkChangesets(root);
  const list = [...releases].map(([name, type]) => `${name} (${type})`).join(', ');
  console.log(`changesets OK: ${releases.size} package(s) to release${list ? `: ${list}` : ''}`);
} catch (e) {
  console.error((e as Error).message);
  process.exitCode = 1;
}
