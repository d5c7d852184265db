import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.js';

// The end-to-end test trains several tiny runs in child processes.
export default mergeConfig(shared, defineConfig({ test: { testTimeout: 300_000 } }));
