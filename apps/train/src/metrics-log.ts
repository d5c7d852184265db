import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '@cvm/nn/node';

/** One training step's record in `metrics.jsonl`. */
export interface TrainRecord {
  kind: 'train';
  step: number;
  epoch: number;
  lr: number;
  total: number;
  /** Weighted per-task losses (what SAK logs). */
  losses: Record<string, number>;
  gradNorm: number;
  /** Wall time of the step (data wait included) and its throughput. */
  seconds: number;
  samplesPerSecond: number;
}

/** One evaluation's record. */
export interface ValRecord {
  kind: 'val';
  step: number;
  scores: Record<string, number>;
  deltaMtl?: number;
  samples: number;
  seconds: number;
}

export type MetricsRecord = TrainRecord | ValRecord;

/** Reads `metrics.jsonl` (a torn last line from a crash is dropped). */
export function readMetrics(path: string): MetricsRecord[] {
  if (!existsSync(path)) return [];
  const out: MetricsRecord[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as MetricsRecord);
    } catch {
      // A line cut short by a crash: everything after the last checkpoint is redone anyway.
    }
  }
  return out;
}

/** Appends one record as a JSON line. */
export function appendMetrics(path: string, record: MetricsRecord): void {
  appendFileSync(path, `${JSON.stringify(record)}\n`);
}

/** Rewrites the log with only the records up to `step` (what a resumed run continues from). */
export async function truncateMetrics(path: string, step: number): Promise<MetricsRecord[]> {
  const kept = readMetrics(path).filter((r) => r.step <= step);
  await writeFileAtomic(path, new TextEncoder().encode(kept.map((r) => `${JSON.stringify(r)}\n`).join('')));
  return kept;
}
