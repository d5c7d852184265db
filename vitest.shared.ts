/**
 * The vitest settings every package shares; each package's `vitest.config.ts` imports this (vitest
 * looks for a config file in the directory it runs from), and may merge its own on top.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Workspace packages resolve to their TypeScript sources in tests, so no build is needed first.
  resolve: { conditions: ['cvm-source'] },
  // Vitest runs test files in SSR mode, where dependency resolution reads `ssr.resolve`.
  ssr: { resolve: { conditions: ['cvm-source'] } },
  test: {
    include: ['test/**/*.test.ts'],
    // Native addons (Dawn) and tfjs's global engine want a process per file.
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
