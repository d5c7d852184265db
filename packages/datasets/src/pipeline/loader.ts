import type { Worker } from 'node:worker_threads';
import { Rng, hashSeeds } from '../random.js';
import type { MultiViewSample, TaskName } from '../schema.js';
import { startModuleWorker } from '../worker-start.js';
import { type Batch, collate } from './batch.js';
import { type SampleSource, type SourceSpec, openSource } from './sources.js';
import { checkPipelineOptions, type PipelineOptions, transformSample } from './transforms.js';

export interface DataLoaderOptions {
  source: SourceSpec;
  /** Transforms (see `transformSample`). */
  pipeline: PipelineOptions;
  batchSize: number;
  /** Seed of the shuffling and of every sample's augmentation; default 0. */
  seed?: number;
  /** Shuffle every epoch (seeded); default `pipeline.train`. */
  shuffle?: boolean;
  /** Drop the last incomplete batch; default `pipeline.train`. */
  dropLast?: boolean;
  /** Worker threads that load and transform samples (0 = the calling thread); default 0. */
  workers?: number;
  /** Batches prepared ahead of the consumer; default 2. */
  prefetch?: number;
  /** Reference-view labels to put in batches (default: those every sample has). */
  tasks?: readonly TaskName[];
}

/** @internal message to a loader worker. */
export interface LoaderJob {
  job: number;
  index: number;
  seed: number;
}

/** @internal data a loader worker starts with. */
export interface LoaderWorkerData {
  source: SourceSpec;
  pipeline: PipelineOptions;
}

/**
 * Seeded, shuffled, prefetching batches of transformed samples. Each sample's augmentation uses its own
 * generator, seeded from (seed, epoch, dataset index), so batches are identical for any number of
 * workers; with `workers > 0`, rendering / decoding and augmentation run on worker threads and overlap
 * the consumer (up to `prefetch` batches ahead).
 *
 * @example
 * const loader = new DataLoader({
 *   source: { kind: 'synthetic', world: { seed: 0, views: 3 }, split: 'train' },
 *   pipeline: { train: true, size: [96, 128] },
 *   batchSize: 4, workers: 2,
 * });
 * for await (const batch of loader.epoch(0)) {
 *   batch.images; // Float32Array [4,3,96,128,3] RGB in [0,1]; batch.labels.semseg: Int32Array [4,96,128]
 * }
 * await loader.close();
 */
export class DataLoader {
  readonly options: Required<Omit<DataLoaderOptions, 'tasks'>> & { tasks?: readonly TaskName[] };
  private readonly source: SampleSource;
  private pool: Worker[] = [];
  private nextJob = 0;
  private pending = new Map<number, { resolve: (s: MultiViewSample) => void; reject: (e: Error) => void }>();
  private nextWorker = 0;

  constructor(options: DataLoaderOptions) {
    const train = options.pipeline.train;
    this.options = {
      seed: 0,
      shuffle: train,
      dropLast: train,
      workers: 0,
      prefetch: 2,
      ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
    } as DataLoader['options'];
    const { batchSize, workers, prefetch } = this.options;
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new Error(`DataLoader: batchSize must be a positive integer, got ${String(batchSize)}`);
    if (!Number.isInteger(workers) || workers < 0)
      throw new Error(`DataLoader: workers must be a non-negative integer, got ${String(workers)}`);
    if (!Number.isInteger(prefetch) || prefetch < 1)
      throw new Error(`DataLoader: prefetch must be a positive integer, got ${String(prefetch)}`);
    if (train && !options.pipeline.size) throw new Error('DataLoader: training pipelines need `size` [H, W]');
    checkPipelineOptions(options.pipeline);
    this.source = openSource(options.source);
  }

  /** Samples in the source. */
  get samples(): number {
    return this.source.length;
  }

  /** Batches per epoch. */
  get length(): number {
    const n = this.source.length / this.options.batchSize;
    return this.options.dropLast ? Math.floor(n) : Math.ceil(n);
  }

  /** Dataset indices of an epoch, in the order they are batched. */
  order(epoch: number): number[] {
    const order = Array.from({ length: this.source.length }, (_, i) => i);
    if (this.options.shuffle) {
      const rng = new Rng(hashSeeds(this.options.seed, 0x5b0ff1e, epoch));
      for (let i = order.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [order[i], order[j]] = [order[j], order[i]];
      }
    }
    return order;
  }

  /**
   * The batches of one epoch, from batch `fromBatch` on (default 0). Starting mid-epoch (a resumed run)
   * renders nothing before it: every sample's augmentation depends only on (seed, epoch, index), so the
   * batches are those an uninterrupted epoch yields from there.
   */
  async *epoch(epoch = 0, { fromBatch = 0 }: { fromBatch?: number } = {}): AsyncGenerator<Batch> {
    const { batchSize, prefetch, seed, workers } = this.options;
    const order = this.order(epoch);
    const batches = this.length;
    if (!Number.isInteger(fromBatch) || fromBatch < 0 || fromBatch > batches)
      throw new Error(
        `DataLoader: fromBatch must be an integer in [0, ${batches}], got ${String(fromBatch)}`,
      );
    if (workers > 0 && this.pool.length === 0) this.startWorkers();
    const load = (b: number): Promise<MultiViewSample[]> =>
      Promise.all(
        order.slice(b * batchSize, Math.min((b + 1) * batchSize, order.length)).map((index) => {
          const sampleSeed = hashSeeds(seed, epoch, index);
          if (workers === 0) {
            // Inline: defer so the consumer's work interleaves with loading.
            return Promise.resolve().then(() =>
              transformSample(this.source.sample(index), this.options.pipeline, new Rng(sampleSeed)),
            );
          }
          return this.dispatch(index, sampleSeed);
        }),
      );
    const queue: Promise<MultiViewSample[]>[] = [];
    for (let b = fromBatch; b < Math.min(fromBatch + prefetch, batches); b++) queue.push(load(b));
    for (let b = fromBatch; b < batches; b++) {
      const samples = await queue.shift()!;
      if (b + prefetch < batches) queue.push(load(b + prefetch));
      yield collate(samples, this.options.tasks);
    }
  }

  /** Stops the worker threads (the loader can start them again). */
  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = [];
    for (const p of this.pending.values()) p.reject(new Error('DataLoader: closed'));
    this.pending.clear();
    await Promise.all(pool.map((w) => w.terminate()));
  }

  private startWorkers(): void {
    const data: LoaderWorkerData = { source: this.options.source, pipeline: this.options.pipeline };
    for (let i = 0; i < this.options.workers; i++) {
      const worker = startModuleWorker(import.meta.url, 'loader-worker', data);
      worker.on('message', (m: { job: number; sample?: MultiViewSample; error?: string }) => {
        const p = this.pending.get(m.job);
        if (!p) return;
        this.pending.delete(m.job);
        if (m.error !== undefined) p.reject(new Error(`DataLoader: worker failed: ${m.error}`));
        else p.resolve(m.sample!);
      });
      worker.on('error', (e) => {
        for (const p of this.pending.values()) p.reject(e);
        this.pending.clear();
      });
      this.pool.push(worker);
    }
  }

  private dispatch(index: number, seed: number): Promise<MultiViewSample> {
    const job = this.nextJob++;
    const worker = this.pool[this.nextWorker++ % this.pool.length];
    return new Promise((resolve, reject) => {
      this.pending.set(job, { resolve, reject });
      worker.postMessage({ job, index, seed } satisfies LoaderJob);
    });
  }
}
