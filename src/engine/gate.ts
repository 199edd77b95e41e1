import { Fifo } from '../utils/fifo.js';

/**
 * A counting semaphore whose free slots are taken synchronously: `take()` either takes one at
 * once (and returns nothing) or returns the promise of one, first come first served. A slot
 * given back goes straight to the longest waiter. A job that finds its slots free (most jobs of
 * a bulk run, most of the time) so costs no promise and no microtask hop per limit.
 */
export class Gate {
  private used = 0;
  private readonly waiters = new Fifo<() => void>();

  constructor(readonly size: number) {}

  /** Nobody holds a slot or waits for one: the gate can be dropped. */
  get idle(): boolean {
    return this.used === 0 && this.waiters.size === 0;
  }

  /** Takes a slot: at once when one is free, else the returned promise resolves once it is held. */
  take(): Promise<void> | undefined {
    if (this.used < this.size) {
      this.used++;
      return undefined;
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  give(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.used--;
  }
}
