import { describe, expect, it } from 'vitest';
import { SlotArray } from '../../src/utils/slot-array.js';

describe('SlotArray', () => {
  it('holds what was added until it is removed, and counts it', () => {
    const items = new SlotArray<string>();
    const a = items.add('a');
    const b = items.add('b');
    items.add('c');
    expect(items.size).toBe(3);
    items.remove(b);
    expect([...items.values()]).toEqual(['a', 'c']);
    expect(items.size).toBe(2);
    items.remove(a);
    expect([...items.values()]).toEqual(['c']);
    expect(items.size).toBe(1);
  });

  it('refuses to let go of a slot twice, which would hand it out to two', () => {
    const items = new SlotArray<string>();
    const a = items.add('a');
    items.remove(a);
    expect(() => items.remove(a)).toThrow(/not held/);
    expect(items.size).toBe(0);
  });

  it('uses a freed slot again before it grows', () => {
    const items = new SlotArray<number>();
    const first = items.add(1);
    items.add(2);
    items.remove(first);
    expect(items.add(3)).toBe(first);
    expect([...items.values()]).toEqual([3, 2]); // slot order
    // A thousand in and out, one at a time beside the two: still two slots and a third.
    for (let i = 0; i < 1000; i++) items.remove(items.add(i));
    expect(items.add(4)).toBe(2);
    expect(items.size).toBe(3);
  });

  it('lets go of what it held: a removed item is not reachable through it', () => {
    const items = new SlotArray<{ name: string }>();
    const held = items.add({ name: 'kept' });
    const gone = items.add({ name: 'gone' });
    items.remove(gone);
    // The array slot itself is cleared, not only skipped when iterating.
    const slots = (items as unknown as { slots: unknown[] }).slots;
    expect(slots[gone]).toBeUndefined();
    expect(slots[held]).toEqual({ name: 'kept' });
  });

  it('iterates safely while items are removed and added: a removed one is not visited', () => {
    const items = new SlotArray<string>();
    const slots = ['a', 'b', 'c'].map((s) => items.add(s));
    const seen: string[] = [];
    for (const item of items.values()) {
      seen.push(item);
      if (item === 'a') items.remove(slots[1]!);
      if (item === 'c') {
        items.add('d'); // in b's slot, passed already: not visited
        items.add('e'); // in a new slot at the end: visited
      }
    }
    expect(seen).toEqual(['a', 'c', 'e']);
    expect([...items.values()]).toEqual(['a', 'd', 'c', 'e']);
  });
});
