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
  /**
   * Most jobs alive as promises at once, at least backlogPerSlot per download slot. Small on purpose: a
   * waiting job outlives young-generation collections, so every one in the window is copied
   * and promoted, and 2,048 cost 15-20% more CPU than 64 in a run of many small files
   * (docs/architecture.md).
   */
  window: 64,
  /**
   * Most live jobs of a host, and of a site, before further ones are parked: this many per slot
   * of its limit. Never more: a window full of jobs held back by their host or site then still
   * has a quarter of them running, at least one per download slot (docs/architecture.md).
   */
  backlogPerSlot: 4,
  /**
   * Parked jobs kept whole in memory (1-2 KB each, with their URL objects) before they are kept
   * as numbers and read back from the joblog when their turn comes (a synchronous read from the
   * page cache: about as fast as keeping them, see docs/architecture.md).
   */
  parkedInMemory: 10_000,
  /**
   * Most parked jobs the input is read past while the live jobs can fill every download slot;
   * beyond, it is read further only for slots they cannot fill (engine/scheduler.ts, holdsInput).
   */
  readAhead: 1024,
  /**
   * Most live jobs waiting out a backoff or a host's Retry-After without a place in the window
   * (a few KB each): hosts that asked for a pause do not keep the others from starting.
   */
  maxAway: 1024,
} as const;

/** Name of the joblog kept in the destination folder when no `--joblog` is given. */
export const DEFAULT_JOBLOG_NAME = '.dl-joblog.jsonl';

export function defaultJoblog(destdir: string): string {
  return join(destdir, DEFAULT_JOBLOG_NAME);
}
