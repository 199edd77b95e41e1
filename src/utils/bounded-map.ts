/**
 * Sets `key` in a map that is a cache, not a record: when it already holds `max` other keys it is
 * emptied first. A run over millions of hosts then holds at most `max` entries, and what was
 * forgotten is only worked out again (an address looked up, an origin tried anew).
 */
export function setBounded<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  if (map.size >= max && !map.has(key)) map.clear();
  map.set(key, value);
}
