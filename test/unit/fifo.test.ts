import { describe, expect, it } from 'vitest';
import { Fifo } from '../../src/utils/fifo.js';

describe('Fifo', () => {
  it('is empty at first: size 0, shift gives undefined', () => {
    const fifo = new Fifo<number>();
    expect(fifo.size).toBe(0);
    expect(fifo.shift()).toBeUndefined();
  });

  it('gives items back in the order they were pushed, with pushes in between', () => {
    const fifo = new Fifo<string>();
    fifo.push('a');
    fifo.push('b');
    expect(fifo.shift()).toBe('a');
    fifo.push('c');
    expect(fifo.size).toBe(2);
    expect([fifo.shift(), fifo.shift(), fifo.shift()]).toEqual(['b', 'c', undefined]);
    expect(fifo.size).toBe(0);
    fifo.push('d'); // usable again once emptied
    expect(fifo.size).toBe(1);
    expect(fifo.shift()).toBe('d');
  });

  it('keeps order and size across compactions of a queue that never empties', () => {
    const fifo = new Fifo<number>();
    let pushed = 0;
    for (; pushed < 5000; pushed++) fifo.push(pushed);
    const out: number[] = [];
    const sizes = new Set<number>();
    // Far more shifts than the compaction threshold (4096), with 5000 items always queued.
    for (let round = 0; round < 50_000; round++) {
      fifo.push(pushed++);
      out.push(fifo.shift()!);
      sizes.add(fifo.size);
    }
    while (fifo.size > 0) out.push(fifo.shift()!);
    expect([...sizes]).toEqual([5000]);
    expect(out).toEqual(Array.from({ length: pushed }, (_, i) => i));
    expect(fifo.shift()).toBeUndefined();
  });
});
