import { SingleBar } from 'cli-progress';

/** What one step reports to the progress display. */
export interface ProgressUpdate {
  step: number;
  total: number;
  losses: Record<string, number>;
  samplesPerSecond: number;
  lr: number;
}

function formatLosses(losses: Record<string, number>): string {
  return Object.entries(losses)
    .map(([k, v]) => `${k} ${v.toPrecision(3)}`)
    .join(' ');
}

/** A rate with one decimal, or three significant digits below 1 (a paper-size step takes minutes). */
export function formatRate(perSecond: number): string {
  return perSecond >= 1 || perSecond === 0 ? perSecond.toFixed(1) : perSecond.toPrecision(3);
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.round(s)}s`;
}

/**
 * The training progress: a live line (cli-progress) with step, ETA, losses and samples/s on a TTY;
 * plain lines every `every` steps otherwise (logs, CI).
 */
export class Progress {
  private bar: SingleBar | null = null;
  private readonly started = Date.now();
  private readonly startStep: number;

  constructor(
    private readonly label: string,
    startStep: number,
    private readonly total: number,
    private readonly every: number,
    private readonly tty = Boolean(process.stderr.isTTY),
  ) {
    this.startStep = startStep;
    if (this.tty) {
      this.bar = new SingleBar({
        format: `${label} {bar} {value}/{total} | ETA {eta_formatted} | {sps} samples/s | lr {lr} | {losses}`,
        stream: process.stderr,
        hideCursor: true,
        etaBuffer: 20,
        barsize: 20,
      });
      this.bar.start(total, startStep, { sps: '-', lr: '-', losses: '' });
    }
  }

  update(u: ProgressUpdate): void {
    const payload = {
      sps: formatRate(u.samplesPerSecond),
      lr: u.lr.toExponential(2),
      losses: formatLosses(u.losses),
    };
    if (this.bar) {
      this.bar.update(u.step, payload);
      return;
    }
    if (u.step % this.every !== 0 && u.step !== this.total) return;
    const elapsed = (Date.now() - this.started) / 1000;
    const done = u.step - this.startStep;
    const eta = done > 0 ? (elapsed / done) * (this.total - u.step) : Number.NaN;
    console.log(
      `${this.label} step ${u.step}/${this.total} | ETA ${formatSeconds(eta)} | ${payload.sps} samples/s | lr ${payload.lr} | ${payload.losses}`,
    );
  }

  /** Prints a line without breaking the live bar. */
  log(line: string): void {
    if (this.bar) {
      process.stderr.write('\r\x1b[K');
      console.log(line);
      this.bar.render?.();
    } else console.log(line);
  }

  stop(): void {
    this.bar?.stop();
    this.bar = null;
  }
}
