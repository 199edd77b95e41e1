import { describe, expect, it } from 'vitest';
import { setBounded } from '../../src/utils/bounded-map.js';

describe('setBounded', () => {
  it('never holds more than its bound: full, a new key empties it first; a key it holds is updated in place', () => {
    const map = new Map<string, number>();
    for (let i = 0; i < 3; i++) setBounded(map, `k${i}`, i, 3);
    expect([...map.keys()]).toEqual(['k0', 'k1', 'k2']);
    setBounded(map, 'k1', 10, 3);
    expect([...map]).toEqual([['k0', 0], ['k1', 10], ['k2', 2]]);
    setBounded(map, 'k3', 3, 3);
    expect([...map]).toEqual([['k3', 3]]);
    for (let i = 0; i < 10_000; i++) setBounded(map, `n${i}`, i, 3);
    expect(map.size).toBeLessThanOrEqual(3);
  });
});
