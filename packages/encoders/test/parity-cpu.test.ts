import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, it } from 'vitest';
import { parityCases } from './parity.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('PyTorch parity on cpu (1e-4)', () => {
  for (const [name, run] of parityCases) it(name, run);
});
