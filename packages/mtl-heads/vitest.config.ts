import { mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.js';

// The full-model PyTorch step and the overfitting runs train on cpu: longer than the shared timeout.
export default mergeConfig(shared, { test: { testTimeout: 600_000 } });
