import { HttpStatusError, type DlError } from '../errors/errors.js';

/** What to do after a failed attempt. */
export type RetryDecision =
  | { retry: true; delayMs: number; /** the server asked the whole host to wait */ hostCooldown: boolean }
  | { retry: false; /** why a retryable failure is final anyway, for the message */ note?: string };

/** Decides whether a failed attempt is tried again, and after how long. */
export interface RetryPolicy {
  decide(failedAttempt: number, error: DlError): RetryDecision;
}

export interface RetryOptions {
  /** Retries after the first attempt. */
  retries: number;
  /** Backoff base and cap: attempt n waits a random time in [0, min(cap, base * 2^(n-1))). */
  baseMs: number;
  capMs: number;
  /** A Retry-After longer than this makes the failure final. */
  maxRetryAfterMs: number;
  random?: () => number;
  now?: () => number;
}

/**
 * Retries what is transient (the error says so) with exponential backoff and full jitter, and
 * honours Retry-After on 429 and 503, which then applies to the whole host.
 */
export function createRetryPolicy(options: RetryOptions): RetryPolicy {
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  return {
    decide(failedAttempt, error) {
      if (!error.retryable) return { retry: false };
      if (failedAttempt > options.retries) {
        return options.retries > 0 ? { retry: false, note: `gave up after ${failedAttempt} attempts` } : { retry: false };
      }
      if (error instanceof HttpStatusError && (error.status === 429 || error.status === 503) && error.retryAfter) {
        const waitMs = parseRetryAfter(error.retryAfter, now());
        if (waitMs !== undefined) {
          if (waitMs > options.maxRetryAfterMs) {
            return {
              retry: false,
              note: `Retry-After of ${Math.round(waitMs / 1000)} s is longer than --max-retry-after ${Math.round(options.maxRetryAfterMs / 1000)} s`,
            };
          }
          return { retry: true, delayMs: waitMs, hostCooldown: true };
        }
      }
      const ceiling = Math.min(options.capMs, options.baseMs * 2 ** (failedAttempt - 1));
      return { retry: true, delayMs: random() * ceiling, hostCooldown: false };
    },
  };
}

/** Retry-After as milliseconds from `nowMs`: delta-seconds or an HTTP date; undefined if neither. */
export function parseRetryAfter(value: string, nowMs: number): number | undefined {
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP date names its day and month; Date.parse alone would accept "-5" or "2".
  if (!/[a-z]{3}/i.test(text)) return undefined;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}
