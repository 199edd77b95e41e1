/**
 * A set of strings that keeps only a 64-bit hash of each: 8 bytes a slot instead of a string and
 * a Map entry, so a 10-million-job log can be deduplicated in about 256 MB less than a Set<string>.
 * Two distinct strings share a hash with probability about n^2 / 2^65 (3e-6 at 10 million), an
 * accepted risk for a resume key; the hashes are two independent 32-bit mixes of the UTF-16 units.
 */
export class HashSet64 {
  private lo: Uint32Array;
  private hi: Uint32Array;
  private mask: number;
  private count = 0;

  constructor(expected = 1024) {
    let capacity = 16;
    while (capacity < expected * 2) capacity *= 2;
    this.lo = new Uint32Array(capacity);
    this.hi = new Uint32Array(capacity);
    this.mask = capacity - 1;
  }

  get size(): number {
    return this.count;
  }

  has(value: string): boolean {
    const [a, b] = hash(value);
    return this.slotOf(a, b) < 0;
  }

  /** Adds the string and says whether it was new. */
  add(value: string): boolean {
    const [a, b] = hash(value);
    const slot = this.slotOf(a, b);
    if (slot < 0) return false;
    this.lo[slot] = a;
    this.hi[slot] = b;
    if (++this.count * 2 > this.lo.length) this.grow();
    return true;
  }

  /** A free slot for (a, b), or -1 when (a, b) is present. */
  private slotOf(a: number, b: number): number {
    let slot = a & this.mask;
    for (;;) {
      const lo = this.lo[slot]!;
      const hi = this.hi[slot]!;
      if (lo === 0 && hi === 0) return slot;
      if (lo === a && hi === b) return -1;
      slot = (slot + 1) & this.mask;
    }
  }

  private grow(): void {
    const { lo, hi } = this;
    this.lo = new Uint32Array(lo.length * 2);
    this.hi = new Uint32Array(hi.length * 2);
    this.mask = this.lo.length - 1;
    for (let i = 0; i < lo.length; i++) {
      if (lo[i] !== 0 || hi[i] !== 0) {
        const slot = this.slotOf(lo[i]!, hi[i]!);
        this.lo[slot] = lo[i]!;
        this.hi[slot] = hi[i]!;
      }
    }
  }
}

const pair: [number, number] = [0, 0];

/** FNV-1a and a murmur3-style mix over the same units; (0, 0) is reserved for empty slots. */
function hash(value: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x9747b28c ^ value.length;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  b = Math.imul(b ^ (b >>> 13), 0xc2b2ae35);
  b ^= b >>> 16;
  pair[0] = a >>> 0;
  pair[1] = (b | (a === 0 ? 1 : 0)) >>> 0;
  return pair;
}
