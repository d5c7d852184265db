import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const python = '/usr/bin/python3';

/**
 * Whether `python` imports every module in `modules` (e.g. `'scipy.io, numpy'`), for tests that check
 * our files with Python's own readers. Under `CI=true` a missing module is an error, not a skip:
 * `.ci/run` installs them, so CI cannot pass without running these checks.
 */
export function pythonHas(modules: string): boolean {
  const ok =
    existsSync(python) && spawnSync(python, ['-c', `import ${modules}`], { encoding: 'utf8' }).status === 0;
  if (!ok && (process.env.CI === 'true' || process.env.CI === '1'))
    throw new Error(`${python} cannot import ${modules} (CI requires it; see .ci/run)`);
  return ok;
}
