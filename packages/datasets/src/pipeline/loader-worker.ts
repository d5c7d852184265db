import { parentPort, workerData } from 'node:worker_threads';
import { Rng } from '../random.js';
import { sampleBuffers } from '../synthetic/parallel.js';
import type { LoaderJob, LoaderWorkerData } from './loader.js';
import { openSource } from './sources.js';
import { transformSample } from './transforms.js';

/** Worker thread body of `DataLoader`: loads (renders / decodes) and transforms the requested samples. */
const { source, pipeline } = workerData as LoaderWorkerData;
const opened = openSource(source);
parentPort!.on('message', (job: LoaderJob) => {
  try {
    const sample = transformSample(opened.sample(job.index), pipeline, new Rng(job.seed));
    parentPort!.postMessage({ job: job.job, sample }, sampleBuffers(sample));
  } catch (error) {
    parentPort!.postMessage({ job: job.job, error: (error as Error).message });
  }
});
