import { parentPort, workerData } from 'node:worker_threads';
import { sampleBuffers } from './parallel.js';
import { SyntheticWorld } from './world.js';

/** Worker thread body of `renderSamples`: renders the requested samples of one world. */
const world = new SyntheticWorld(workerData);
parentPort!.on('message', ({ position, request }) => {
  try {
    const sample = world.sample(request.split, request.index);
    parentPort!.postMessage({ position, sample }, sampleBuffers(sample));
  } catch (error) {
    parentPort!.postMessage({ position, error: (error as Error).message });
  }
});
