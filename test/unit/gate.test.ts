import { describe, expect, it } from 'vitest';
import { Gate } from '../../src/engine/gate.js';

/** Lets every pending promise reaction run (a full turn of the event loop, not a timer). */
async function drain(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

describe('Gate', () => {
  it('takes free slots synchronously, then hands out promises', () => {
    const gate = new Gate(2);
    expect(gate.take()).toBeUndefined();
    expect(gate.take()).toBeUndefined();
    expect(gate.take()).toBeInstanceOf(Promise);
  });

  it('hands given slots to waiters first come first served, one per give', async () => {
    const gate = new Gate(1);
    gate.take();
    const order: string[] = [];
    const waits = ['a', 'b', 'c'].map((name) => gate.take()!.then(() => order.push(name)));
    await drain();
    expect(order).toEqual([]);
    gate.give();
    await drain();
    expect(order).toEqual(['a']);
    gate.give();
    await drain();
    expect(order).toEqual(['a', 'b']);
    gate.give();
    await Promise.all(waits);
    expect(order).toEqual(['a', 'b', 'c']);
  });

  it('a slot given back goes to the waiter, not to a newcomer', async () => {
    const gate = new Gate(1);
    gate.take();
    const waiter = gate.take()!;
    gate.give();
    // The slot now belongs to the waiter, though its promise has not run yet.
    const newcomer = gate.take();
    expect(newcomer).toBeInstanceOf(Promise);
    await waiter;
    let newcomerIn = false;
    void newcomer!.then(() => (newcomerIn = true));
    await drain();
    expect(newcomerIn).toBe(false);
    gate.give();
    await drain();
    expect(newcomerIn).toBe(true);
  });

  it('a slot given back with nobody waiting is free again', () => {
    const gate = new Gate(1);
    gate.take();
    gate.give();
    expect(gate.take()).toBeUndefined();
    expect(gate.take()).toBeInstanceOf(Promise);
  });

  it('is idle only while nobody holds a slot and nobody waits', () => {
    const gate = new Gate(1);
    expect(gate.idle).toBe(true);
    gate.take();
    expect(gate.idle).toBe(false);
    void gate.take();
    gate.give(); // handed to the waiter: still held
    expect(gate.idle).toBe(false);
    gate.give();
    expect(gate.idle).toBe(true);
  });

  it('is not idle while a waiter waits, even with no slot held', () => {
    const gate = new Gate(0);
    expect(gate.idle).toBe(true);
    void gate.take();
    expect(gate.idle).toBe(false);
  });
});
