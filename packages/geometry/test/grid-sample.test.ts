import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, it } from 'vitest';
import { checkAgainstFixture, fixtureCases } from './grid-sample-fixtures.js';

beforeAll(async () => {
  tf.env().set('IS_TEST', true);
  await tf.setBackend('cpu');
});

describe('gridSample composite (forced, cpu backend) vs PyTorch', () => {
  it.each(fixtureCases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    await checkAgainstFixture(c, 'composite');
  });
});
