import { mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.js';

// The module's forward+backward tests on SwiftShader need longer than the shared timeout.
export default mergeConfig(shared, { test: { testTimeout: 180_000 } });
