import type { DlError } from '../errors/errors.js';

/** Decides whether a failed attempt is tried again, and after how long. */
export interface RetryPolicy {
  /** Milliseconds to wait before the next attempt, or undefined when the failure is final. */
  delayBefore(nextAttempt: number, error: DlError): number | undefined;
}

/** Every failure is final. */
export const NO_RETRIES: RetryPolicy = { delayBefore: () => undefined };
