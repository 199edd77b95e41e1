import { describe, expect, it } from 'vitest';
import { Bitset } from '../../src/utils/bitset.js';

describe('Bitset', () => {
  it('add returns true when the bit was clear and false when it was already set', () => {
    const bits = new Bitset();
    expect(bits.add(5)).toBe(true);
    expect(bits.add(5)).toBe(false);
    expect(bits.add(0)).toBe(true);
    expect(bits.add(0)).toBe(false);
  });

  it('has is true only for added numbers', () => {
    const bits = new Bitset();
    bits.add(9);
    expect(bits.has(9)).toBe(true);
    expect(bits.has(8)).toBe(false);
    expect(bits.has(10)).toBe(false);
    expect(bits.has(1)).toBe(false);
    expect(bits.has(0)).toBe(false);
  });

  it('delete returns true when the bit was set, false otherwise, and clears only that bit', () => {
    const bits = new Bitset();
    bits.add(3);
    bits.add(4);
    expect(bits.delete(3)).toBe(true);
    expect(bits.has(3)).toBe(false);
    expect(bits.has(4)).toBe(true);
    expect(bits.delete(3)).toBe(false);
    expect(bits.delete(100)).toBe(false);
    // The bit can be set again after being cleared.
    expect(bits.add(3)).toBe(true);
    expect(bits.has(3)).toBe(true);
  });

  it('numbers beyond the capacity are absent and deleting them is a no-op', () => {
    const bits = new Bitset(8);
    expect(bits.has(1_000_000)).toBe(false);
    expect(bits.delete(1_000_000)).toBe(false);
    expect(bits.has(1_000_000)).toBe(false);
  });

  it('grows when a number past the capacity is added and keeps earlier bits', () => {
    const bits = new Bitset(8);
    bits.add(1);
    bits.add(7);
    expect(bits.add(8)).toBe(true); // first bit of the next byte
    expect(bits.add(1_000_003)).toBe(true);
    expect(bits.has(1)).toBe(true);
    expect(bits.has(7)).toBe(true);
    expect(bits.has(8)).toBe(true);
    expect(bits.has(1_000_003)).toBe(true);
    expect(bits.has(1_000_002)).toBe(false);
    expect(bits.has(1_000_004)).toBe(false);
    expect(bits.add(1_000_003)).toBe(false);
    expect(bits.delete(1_000_003)).toBe(true);
    expect(bits.has(1_000_003)).toBe(false);
  });

  it('keeps every member across many growths', () => {
    const bits = new Bitset(1);
    for (let n = 0; n < 100_000; n += 3) expect(bits.add(n)).toBe(true);
    for (let n = 0; n < 100_000; n++) {
      if (bits.has(n) !== (n % 3 === 0)) throw new Error(`wrong membership for ${n}`);
    }
  });
});
