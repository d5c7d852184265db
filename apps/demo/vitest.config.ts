import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.js';

// The end-to-end test builds the app, serves it and drives headless Chromium through several frames.
export default mergeConfig(shared, defineConfig({ test: { testTimeout: 300_000, hookTimeout: 300_000 } }));
