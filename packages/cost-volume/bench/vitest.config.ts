import { defineConfig } from 'vitest/config';

// Benchmarks run as plain timed scripts in vitest (TypeScript sources, workspace resolution), one fork.
export default defineConfig({
  resolve: { conditions: ['cvm-source'] },
  test: {
    include: ['bench/**/*.bench.ts'],
    pool: 'forks',
    testTimeout: 600_000,
  },
});
