import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { onAbort } from '../../src/utils/on-abort.js';

describe('onAbort', () => {
  it('calls every waiter once when the signal aborts, and none that stopped waiting', () => {
    const controller = new AbortController();
    const calls: string[] = [];
    onAbort(controller.signal, () => calls.push('a'));
    const stopB = onAbort(controller.signal, () => calls.push('b'));
    onAbort(controller.signal, () => calls.push('c'));
    stopB();
    controller.abort();
    controller.abort();
    expect(calls).toEqual(['a', 'c']);
  });

  it('calls at once for a signal that has already aborted', () => {
    let called = 0;
    const stop = onAbort(AbortSignal.abort(), () => called++);
    expect(called).toBe(1);
    stop();
  });

  it('puts one listener on the signal, however many wait on it', () => {
    const { signal } = new AbortController();
    const stops = Array.from({ length: 100 }, () => onAbort(signal, () => undefined));
    expect(getEventListeners(signal, 'abort')).toHaveLength(1);
    for (const stop of stops) stop();
  });

  it('gives a slot let go of to the next waiter, and a second stop does not take it from that waiter', () => {
    const controller = new AbortController();
    const calls: string[] = [];
    const a = (): number => calls.push('a');
    const stopA = onAbort(controller.signal, a);
    stopA();
    onAbort(controller.signal, () => calls.push('b'));
    // The same function again, in the same slot: the first stop, called again, must not end it.
    const stopAgain = onAbort(controller.signal, a);
    stopA();
    void stopAgain;
    onAbort(controller.signal, () => calls.push('c'));
    controller.abort();
    expect(calls).toEqual(['b', 'a', 'c']);
  });

  it('calls the other waiters when one throws, and the error still surfaces', async () => {
    const controller = new AbortController();
    const calls: string[] = [];
    onAbort(controller.signal, () => {
      throw new Error('waiter failed');
    });
    onAbort(controller.signal, () => calls.push('b'));
    const surfaced = new Promise<unknown>((resolve) => process.once('uncaughtException', resolve));
    controller.abort();
    expect(calls).toEqual(['b']);
    expect(((await surfaced) as Error).message).toBe('waiter failed');
  });

  it('lets a waiter stop waiting from inside another waiter’s call', () => {
    const controller = new AbortController();
    const calls: string[] = [];
    let stopB = (): void => undefined;
    onAbort(controller.signal, () => {
      calls.push('a');
      stopB();
    });
    stopB = onAbort(controller.signal, () => calls.push('b'));
    controller.abort();
    expect(calls).toEqual(['a']);
  });
});
