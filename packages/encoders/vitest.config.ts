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
    testTimeout: 180_000,
    hookTimeout: 120_000,
  },
});
