import { join } from 'node:path';

/** Defaults shared by the library and the CLI's help text. */
export const DEFAULTS = {
  workers: 8,
  perHost: 4,
  perSite: 8,
  maxRedirections: 10,
  /** Retries after the first attempt, and the backoff between them (full jitter). */
  retries: 5,
  retryWaitMs: 1000,
  retryMaxWaitMs: 60_000,
  /** A Retry-After longer than this fails the job instead of waiting. */
  maxRetryAfterMs: 300_000,
  connectTimeoutMs: 10_000,
  headersTimeoutMs: 30_000,
  /** No body bytes for this long fails the attempt. */
  idleTimeoutMs: 60_000,
  /** Most jobs alive as promises at once (about 1 KB each). */
  window: 16_384,
  /**
   * Most live jobs per host before further ones are parked as numbers (and read back from the
   * joblog when their turn comes): a quarter of the window, so that one host can never take it.
   */
  hostBacklog: 4096,
} as const;

/** Name of the joblog kept in the destination folder when no `--joblog` is given. */
export const DEFAULT_JOBLOG_NAME = '.dl-joblog.jsonl';

export function defaultJoblog(destdir: string): string {
  return join(destdir, DEFAULT_JOBLOG_NAME);
}
