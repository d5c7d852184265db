import { useWebGPUForTests } from '@cvm/backend';
import { describe, it } from 'vitest';
import { parityCases } from './parity.js';

const webgpu = await useWebGPUForTests();

describe.skipIf(!webgpu)('PyTorch parity on webgpu (1e-4)', () => {
  for (const [name, run] of parityCases) it(name, run);
});
