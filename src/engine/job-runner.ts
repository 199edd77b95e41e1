import { AbortedError, LocalError, type DlError } from '../errors/errors.js';
import { classify } from '../errors/classify.js';
import { transfer, type TransferContext, type TransferProgress } from '../http/transfer.js';
import { now } from '../joblog/records.js';
import type { JoblogWriter } from '../joblog/writer.js';
import { redactUrl } from '../utils/redact-url.js';
import type { EventListener } from './events.js';
import type { ActiveJob } from './job.js';
import type { Limits } from './limits.js';
import type { RetryPolicy } from './retry-policy.js';

/** What this run has finished, for the summary. */
export interface Tally {
  done: number;
  failed: number;
  bytes: number;
}

/** A transfer under way, as reporters see it. */
export interface ActiveTransfer {
  seq: number;
  url: string;
  progress: TransferProgress;
}

export interface JobRunnerDeps {
  limits: Limits;
  writer: JoblogWriter;
  emit: EventListener;
  transfer: TransferContext;
  retry: RetryPolicy;
  tally: Tally;
  signal: AbortSignal;
  /** Transfers under way, keyed by seq; reporters poll it for bytes and names. */
  active: Map<number, ActiveTransfer>;
  /** Called with an error that no other job can get past either (disk full): the run stops. */
  onFatal(error: DlError): void;
}

/**
 * Runs a job to its outcome: every attempt holds its host, site and global slots only while it
 * transfers, and records `start`, then `done` or `fail`, in the joblog. An interrupted job records
 * nothing more: it stays pending and the next run does it.
 */
export function createJobRunner(deps: JobRunnerDeps): (job: ActiveJob) => Promise<void> {
  return async (job) => {
    const { seq } = job.record;
    const url = redactUrl(job.record.url);
    for (let attempt = 1; ; attempt++) {
      let error: DlError;
      try {
        const result = await deps.limits.run(job.host, job.site, async () => {
          if (deps.signal.aborted) throw new AbortedError();
          deps.writer.append({ t: 'start', seq, ts: now(), attempt });
          deps.emit({ type: 'start', seq, url, attempt });
          const progress: TransferProgress = { bytes: 0, total: undefined };
          deps.active.set(seq, { seq, url, progress });
          try {
            return await transfer(job, deps.transfer, progress);
          } finally {
            deps.active.delete(seq);
          }
        });
        deps.writer.append({ t: 'done', seq, ts: now(), bytes: result.bytes, path: result.path, status: result.status });
        deps.tally.done++;
        deps.tally.bytes += result.bytes;
        deps.emit({ type: 'done', seq, url, path: result.path, bytes: result.bytes, status: result.status });
        return;
      } catch (thrown) {
        error = classify(thrown, deps.signal);
      }
      if (error instanceof AbortedError) return;
      if (error instanceof LocalError && error.fatal) {
        deps.onFatal(error);
        return;
      }
      const delay = deps.retry.delayBefore(attempt + 1, error);
      const final = delay === undefined;
      deps.writer.append({ t: 'fail', seq, ts: now(), attempt, final, code: error.code, error: error.message });
      deps.emit({ type: 'fail', seq, url, attempt, final, code: error.code, error: error.message });
      if (final) {
        deps.tally.failed++;
        return;
      }
      await sleep(delay, deps.signal);
      if (deps.signal.aborted) return;
    }
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
