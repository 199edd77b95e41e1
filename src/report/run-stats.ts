import type { DlEvent, RunSummary } from '../engine/events.js';
import type { ActiveTransfers } from '../engine/job-runner.js';
import { monotonicMs } from '../utils/clock.js';

/** How far back speed and ETA look. */
const WINDOW_MS = 5000;

/**
 * What a progress display needs, kept up to date from events and from the live transfers:
 * counts, bytes, speed over the last few seconds, and an ETA once the number of jobs is known.
 */
export class RunStats {
  jobs = 0;
  /** Jobs that were finished before this run. */
  skipped = 0;
  done = 0;
  failed = 0;
  retries = 0;
  /** Every input was read: the number of jobs is final. */
  resolved = false;
  summary: RunSummary | undefined;
  private bytesDone = 0;
  private readonly waiting = new Set<number>();
  private readonly samples: Array<{ at: number; bytes: number; finished: number }> = [];

  constructor(
    readonly active: ActiveTransfers,
    private readonly clock: () => number = monotonicMs,
  ) {}

  apply(event: DlEvent): void {
    switch (event.type) {
      case 'plan':
        this.jobs = event.jobs;
        this.skipped = event.finished;
        return;
      case 'queued':
        this.jobs++;
        return;
      case 'resolved':
        this.resolved = true;
        return;
      case 'start':
        this.waiting.delete(event.seq);
        return;
      case 'retry':
        this.retries++;
        this.waiting.add(event.seq);
        return;
      case 'done':
        this.done++;
        this.bytesDone += event.bytes;
        this.waiting.delete(event.seq);
        return;
      case 'fail':
        this.failed++;
        this.waiting.delete(event.seq);
        return;
      case 'summary':
        this.summary = event.summary;
        return;
      default:
        return;
    }
  }

  /** Jobs whose next attempt waits for a backoff or a Retry-After. */
  get retryWaiting(): number {
    return this.waiting.size;
  }

  get finished(): number {
    return this.skipped + this.done + this.failed;
  }

  /** Bytes written by this run so far, including transfers under way. */
  bytes(): number {
    let bytes = this.bytesDone;
    for (const transfer of this.active.values()) bytes += transfer.progress.bytes;
    return bytes;
  }

  /** Takes a sample for speed and ETA; call it once per redraw. */
  sample(): void {
    const now = this.clock();
    this.samples.push({ at: now, bytes: this.bytes(), finished: this.finished });
    while (this.samples.length > 2 && now - this.samples[0]!.at > WINDOW_MS) this.samples.shift();
  }

  /** Bytes per second over the last few seconds. */
  speed(): number {
    const first = this.samples[0];
    const last = this.samples.at(-1);
    if (!first || !last || last.at - first.at < 200) return 0;
    return Math.max(0, ((last.bytes - first.bytes) * 1000) / (last.at - first.at));
  }

  /** Milliseconds left, from the recent rate of finished jobs; undefined until it can be known. */
  etaMs(): number | undefined {
    if (!this.resolved) return undefined;
    const first = this.samples[0];
    const last = this.samples.at(-1);
    const left = this.jobs - this.finished;
    if (left <= 0) return 0;
    if (!first || !last || last.finished === first.finished) return undefined;
    return (left * (last.at - first.at)) / (last.finished - first.finished);
  }
}
