/**
 * What the core tells the outside world. The engine and the run emit these and never print;
 * reporters (src/report) render them and tests assert on them.
 */
export type DlEvent =
  | { type: 'joblog-repaired'; joblog: string; droppedBytes: number }
  | { type: 'joblog-bad-lines'; joblog: string; count: number }
  /** The joblog was read: how many jobs it has and how many of them need nothing more. */
  | { type: 'plan'; jobs: number; finished: number }
  | { type: 'input-error'; src: string; reason: string }
  /** Something in the input dl does not use (an aria2 option it ignores); not an error. */
  | { type: 'input-warning'; src: string; reason: string }
  | { type: 'queued'; seq: number; url: string; out: string }
  | { type: 'resolved'; jobs: number }
  | { type: 'start'; seq: number; url: string; attempt: number }
  | { type: 'done'; seq: number; url: string; path: string; bytes: number; status: number; sha256?: string }
  /** An attempt failed and the job will be tried again after `delayMs`. */
  | { type: 'retry'; seq: number; url: string; attempt: number; code: string; error: string; delayMs: number }
  /** The job failed for good. */
  | { type: 'fail'; seq: number; url: string; attempt: number; code: string; error: string }
  | { type: 'fatal'; code: string; error: string }
  | { type: 'summary'; summary: RunSummary };

export interface RunSummary {
  /** All jobs in the joblog, from this run and earlier ones. */
  jobs: number;
  done: number;
  failed: number;
  pending: number;
  /** Jobs that were already finished when this run started and were not fetched again. */
  skipped: number;
  /** Input lines rejected as not being http(s) URLs. */
  rejected: number;
  /** Jobs finished by this run, and their bytes. */
  doneThisRun: number;
  failedThisRun: number;
  bytesThisRun: number;
  /** Bytes of every done job in the log. */
  bytes: number;
  durationMs: number;
  interrupted: boolean;
  /** Set when the run stopped on an error no job could get past (disk full, joblog write). */
  fatal?: { code: string; error: string };
}

export type EventListener = (event: DlEvent) => void;
