import { HashSet } from '../../src/utils/hash-set.js';

/**
 * Two distinct file names with the same 32-bit case-folded hash, as a 32-bit HashSet keeps
 * them (a folder listing). Found by adding names until one is "already present" (some 80,000
 * on average), then finding the earlier name it matched.
 */
export function namesSharingA32BitHash(): [string, string] {
  const seen = new HashSet(32, 1 << 20, true);
  const name = (i: number): string => `n${i}.bin`;
  let j = 0;
  while (seen.add(name(j))) j++;
  const only = new HashSet(32, 16, true);
  only.add(name(j));
  for (let i = 0; i < j; i++) if (only.has(name(i))) return [name(i), name(j)];
  throw new Error('no earlier name shares the hash');
}
