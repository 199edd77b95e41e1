import { onAbort } from './on-abort.js';

/** A signal with a time limit: see `withDeadline`. */
export interface Deadline {
  signal: AbortSignal;
  /** Whether the time ran out (rather than `parent` aborting). */
  timedOut(): boolean;
  /** Lets go of the timer and of the listener on `parent`: call it when the work is over. */
  clear(): void;
}

/**
 * A signal that aborts when `parent` does or when `ms` have passed, whichever comes first.
 * `AbortSignal.any([parent, AbortSignal.timeout(ms)])` is not used: on Node 20 the timeout
 * signal is held only weakly there, and a garbage collection before it fires means it never
 * fires (nodejs/node#57736), which let an attempt run on past --max-time. Here the timer holds
 * the controller.
 */
export function withDeadline(parent: AbortSignal, ms: number): Deadline {
  const controller = new AbortController();
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    controller.abort(new DOMException(`no end within ${ms} ms`, 'TimeoutError'));
  }, ms);
  const stopWaiting = onAbort(parent, () => controller.abort(parent.reason));
  return {
    signal: controller.signal,
    timedOut: () => expired,
    clear: () => {
      clearTimeout(timer);
      stopWaiting();
    },
  };
}
