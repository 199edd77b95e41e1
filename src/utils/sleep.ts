import { onAbort } from './on-abort.js';

/** Resolves after `ms`, or at once when `signal` aborts (never rejects). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    const stopWaiting = signal && onAbort(signal, done);
    function done(): void {
      clearTimeout(timer);
      stopWaiting?.();
      resolve();
    }
  });
}
