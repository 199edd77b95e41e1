import { onAbort } from './on-abort.js';

/** Resolves after `ms`, or at once when `signal` aborts (never rejects). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    let stopWaiting: (() => void) | undefined;
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      stopWaiting?.();
      resolve();
    }
    stopWaiting = signal && onAbort(signal, done);
  });
}
