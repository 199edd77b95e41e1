import { AbortedError, LocalError, NetworkError, ResumeError, TimeoutError, type DlError } from '../errors/errors.js';
import { formatBytes } from '../utils/format.js';
import { classify, type Timeouts } from '../errors/classify.js';
import type { TransferProgress } from '../fs/part-writer.js';
import { transfer, type TransferContext } from '../http/transfer.js';
import type { Validator } from '../http/validator.js';
import { now } from '../joblog/records.js';
import type { JoblogWriter } from '../joblog/writer.js';
import { redactUrl } from '../utils/redact-url.js';
import type { SlotArray } from '../utils/slot-array.js';
import type { EventListener } from './events.js';
import type { ActiveJob } from './job.js';
import type { Limits } from './limits.js';
import type { RetryDecision, RetryPolicy } from './retry-policy.js';
import type { TransferResult } from '../http/transfer.js';

/** How one attempt ended; `decision` is absent for an interruption or a fatal local error. */
type Outcome = { result: TransferResult } | { error: DlError; message?: string; decision?: RetryDecision };

/** The error in words, saying how far the body got when a connection broke mid-way. */
function describe(error: DlError, bytes: number): string {
  const midBody = error instanceof NetworkError || (error instanceof TimeoutError && error.code !== 'ETIMEDOUT_CONNECT');
  return midBody && bytes > 0 ? `${error.message} after ${formatBytes(bytes)}` : error.message;
}

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

/** The transfers under way, for reporters to read; each job puts its own in and takes it out. */
export type ActiveTransfers = SlotArray<ActiveTransfer>;

export interface JobRunnerDeps {
  limits: Limits;
  writer: JoblogWriter;
  emit: EventListener;
  transfer: TransferContext;
  timeouts: Timeouts;
  retry: RetryPolicy;
  tally: Tally;
  signal: AbortSignal;
  /** Transfers under way, keyed by seq; reporters poll it for bytes and names. */
  active: ActiveTransfers;
  /** Called with an error that no other job can get past either (disk full): the run stops. */
  onFatal(error: DlError): void;
}

/**
 * Runs a job to its outcome. Each attempt holds its host, site and global slots only while it
 * transfers; between attempts (backoff, Retry-After) the job holds nothing. Records `start` when
 * a body begins to flow, `fail` for every failed attempt and `done` at the end. An interrupted
 * job records nothing more: it stays pending, its `.part` kept for the next run to resume.
 */
export function createJobRunner(deps: JobRunnerDeps): (job: ActiveJob) => Promise<void> {
  return async (job) => {
    const { seq } = job.record;
    const url = redactUrl(job.record.url);
    // The version of what the .part file holds, if it can be resumed.
    let resume: Validator | undefined = job.resume;
    for (let attempt = 1; ; attempt++) {
      // The slots are held only while this attempt transfers; taken without a promise when free.
      const pending = deps.limits.acquire(job.host, job.site, deps.signal);
      const held = pending instanceof Promise ? await pending : pending;
      let outcome: Outcome;
      try {
        if (deps.signal.aborted) outcome = { error: new AbortedError() };
        else {
          deps.emit({ type: 'start', seq, url, attempt });
          const progress: TransferProgress = { bytes: 0, total: undefined };
          const slot = deps.active.add({ seq, url, progress });
          try {
            outcome = {
              result: await transfer(job, deps.transfer, progress, resume, ({ offset, validator }) => {
                resume = validator;
                // One shape, undefined fields left out by the encoder: spreads here cost a microsecond.
                deps.writer.append({
                  t: 'start',
                  seq,
                  ts: now(),
                  attempt,
                  offset: offset > 0 ? offset : undefined,
                  etag: validator?.etag,
                  lastModified: validator?.lastModified,
                });
              }),
            };
          } catch (thrown) {
            const error = classify(thrown, deps.signal, deps.timeouts);
            if (error instanceof AbortedError || (error instanceof LocalError && error.fatal)) outcome = { error };
            else {
              // Decided while the host slot is still held, so that a cooldown the server asked for
              // is in place before any other job of the host can take the slot.
              const decision = deps.retry.decide(attempt, error);
              if (decision.retry && decision.hostCooldown) deps.limits.coolDown(job.host, Date.now() + decision.delayMs);
              outcome = { error, decision, message: describe(error, progress.bytes) };
            }
          } finally {
            deps.active.remove(slot);
          }
        }
      } finally {
        deps.limits.release(held);
      }
      if ('result' in outcome) {
        const { result } = outcome;
        // One shape, no spread of the optional sha256: the encoder leaves it out when undefined.
        deps.writer.append({ t: 'done', seq, ts: now(), bytes: result.bytes, path: result.path, status: result.status, sha256: result.sha256 });
        deps.tally.done++;
        deps.tally.bytes += result.bytes;
        deps.emit({ type: 'done', seq, url, path: result.path, bytes: result.bytes, status: result.status, sha256: result.sha256 });
        return;
      }
      const { error, decision } = outcome;
      const reason = outcome.message ?? error.message;
      if (!decision) {
        if (error instanceof LocalError) {
          deps.onFatal(new LocalError(error.code, `${error.message} while writing ${job.record.out}`, true, { cause: error }));
        }
        return; // interrupted or stopped: the job stays pending
      }
      if (error instanceof ResumeError) resume = undefined;
      const message = !decision.retry && decision.note ? `${reason}; ${decision.note}` : reason;
      deps.writer.append({ t: 'fail', seq, ts: now(), attempt, final: !decision.retry, code: error.code, error: message });
      if (!decision.retry) {
        deps.tally.failed++;
        deps.emit({ type: 'fail', seq, url, attempt, code: error.code, error: message });
        return;
      }
      deps.emit({ type: 'retry', seq, url, attempt, code: error.code, error: message, delayMs: decision.delayMs });
      await deps.limits.pause(job.host, decision.delayMs, deps.signal);
      if (deps.signal.aborted) return;
    }
  };
}
