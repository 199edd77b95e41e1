import { SlotArray } from './slot-array.js';

/** What waits for each signal's abort: in slots used again, not a Set (see utils/slot-array.ts). */
const waiting = new WeakMap<AbortSignal, SlotArray<() => void>>();

/**
 * Calls `callback` once when `signal` aborts (at once when it already has); the function returned
 * stops waiting. Every request, retry wait and deadline of a run waits on the run's signal, and
 * giving each its own `addEventListener` cost more than the call: the signal keeps its listeners
 * in a linked list, and a removed listener still points at its neighbours. Once one has lived
 * long enough to be in the old generation, the young-generation collector cannot know it is
 * dead, so the listener added after it survives, and with it the whole request it belongs to,
 * which in turn holds the next. In a run of small files most of every request's objects were
 * copied and promoted that way, and collecting them cost more than any part of dl's own code
 * (docs/architecture.md). Here the signal has one listener, whatever the number of waiters.
 */
export function onAbort(signal: AbortSignal, callback: () => void): () => void {
  if (signal.aborted) {
    callback();
    return noop;
  }
  const waiters = waiting.get(signal) ?? listen(signal);
  const at = waiters.add(callback);
  let holding = true;
  return () => {
    // Once only: a slot given back twice would be handed to two waiters.
    if (!holding) return;
    holding = false;
    waiters.remove(at);
  };
}

/** The signal's one listener, which calls every waiter. */
function listen(signal: AbortSignal): SlotArray<() => void> {
  const all = new SlotArray<() => void>();
  waiting.set(signal, all);
  signal.addEventListener(
    'abort',
    () => {
      waiting.delete(signal);
      for (const call of all.values()) {
        try {
          call();
        } catch (error) {
          // One waiter's failure must not keep the others from hearing of the abort.
          queueMicrotask(() => {
            throw error;
          });
        }
      }
    },
    { once: true },
  );
  return all;
}

function noop(): void {}
