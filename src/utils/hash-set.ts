/**
 * A set of strings that keeps only a 64-bit hash of each: 8 bytes a slot instead of a string and
 * a Map entry, so a 10-million-job log can be deduplicated in about 256 MB less than a Set<string>.
 * Two distinct strings share a hash with probability about n^2 / 2^65 (3e-6 at 10 million), an
 * accepted risk for a resume key; the hashes are two independent 32-bit mixes of the UTF-16 units.
 */
export class HashSet64 {
  /** Slot i holds its two hash halves at 2i and 2i+1: one cache line per probe, not two. */
  private slots: Uint32Array;
  private mask: number;
  private count = 0;

  constructor(expected = 1024) {
    let capacity = 16;
    while (capacity < expected * 2) capacity *= 2;
    this.slots = new Uint32Array(capacity * 2);
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
    this.slots[slot * 2] = a;
    this.slots[slot * 2 + 1] = b;
    if (++this.count * 2 > this.mask + 1) this.grow();
    return true;
  }

  /** A free slot for (a, b), or -1 when (a, b) is present. */
  private slotOf(a: number, b: number): number {
    let slot = a & this.mask;
    for (;;) {
      const lo = this.slots[slot * 2]!;
      const hi = this.slots[slot * 2 + 1]!;
      if (lo === 0 && hi === 0) return slot;
      if (lo === a && hi === b) return -1;
      slot = (slot + 1) & this.mask;
    }
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Uint32Array(old.length * 2);
    this.mask = old.length - 1;
    for (let i = 0; i < old.length; i += 2) {
      const a = old[i]!;
      const b = old[i + 1]!;
      if (a !== 0 || b !== 0) {
        const slot = this.slotOf(a, b);
        this.slots[slot * 2] = a;
        this.slots[slot * 2 + 1] = b;
      }
    }
  }
}

const pair: [number, number] = [0, 0];

/** FNV-1a and a shift-add lane with a final avalanche; (0, 0) is reserved for empty slots. */
function hash(value: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x9747b28c ^ value.length;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = ((b << 5) - b + c) ^ (b >>> 27); // a second lane without a multiply: it is the hot loop
  }
  // Final avalanche, so that nearby strings spread over the table.
  b = Math.imul(b ^ (b >>> 16), 0x85ebca6b);
  b = Math.imul(b ^ (b >>> 13), 0xc2b2ae35);
  b ^= b >>> 16;
  pair[0] = a >>> 0;
  pair[1] = (b | (a === 0 ? 1 : 0)) >>> 0;
  return pair;
}
