/**
 * A set of strings that keeps only a hash of each: no string, no Map entry. With 64 bits a slot
 * (URL keys), two distinct strings share a hash with probability about n^2 / 2^65 (3e-6 at ten
 * million), an accepted risk for a resume key. With 48 bits (names: a 32-bit slot and a 16-bit
 * side lane), about n^2 / 2^49: 0.002 at a million, 0.2 at ten million, where 32 bits gave a
 * needless `.1` to some 116 names a million. 32 bits are for where a match is confirmed
 * otherwise (a folder listing, checked with lstat). The table stays at most 3/4 full, and can be
 * sized up front from the number of jobs a joblog has.
 */
export class HashSet {
  /** Slot i holds its hash words at [i * stride, i * stride + stride): one cache line a probe. */
  private slots: Uint32Array;
  private mask: number;
  private count = 0;
  private readonly stride: 1 | 2;
  /** The 16 bits a 48-bit set keeps beside each slot's first word. */
  private extra: Uint16Array | undefined;
  /** Whether the second hash word is computed (64 and 48 bits). */
  private readonly wide: boolean;

  /**
   * @param foldCase compare without case: ASCII letters are folded as the hash is computed (no
   *   lowercased copy of every string); a string with other characters is hashed lowercased.
   */
  constructor(
    bits: 32 | 48 | 64,
    expected = 1024,
    private readonly foldCase = false,
  ) {
    this.stride = bits === 64 ? 2 : 1;
    let capacity = 16;
    while (capacity * 3 < expected * 4) capacity *= 2;
    this.slots = new Uint32Array(capacity * this.stride);
    if (bits === 48) this.extra = new Uint16Array(capacity);
    this.wide = bits !== 32;
    this.mask = capacity - 1;
  }

  get size(): number {
    return this.count;
  }

  has(value: string): boolean {
    hash(value, this.foldCase, this.wide);
    return this.slotOf(pair[0], pair[1]) < 0;
  }

  /** Adds the string and says whether it was new. */
  add(value: string): boolean {
    hash(value, this.foldCase, this.wide);
    const slot = this.slotOf(pair[0], pair[1]);
    if (slot < 0) return false;
    this.put(slot, pair[0], pair[1]);
    if (++this.count * 4 > (this.mask + 1) * 3) this.grow();
    return true;
  }

  private put(slot: number, a: number, b: number): void {
    if (this.stride === 2) {
      this.slots[slot * 2] = a;
      this.slots[slot * 2 + 1] = b;
    } else {
      this.slots[slot] = a;
      if (this.extra) this.extra[slot] = b & 0xffff;
    }
  }

  /** A free slot for the hash, or -1 when it is present. 0 marks a free slot. */
  private slotOf(a: number, b: number): number {
    const { slots, stride } = this;
    let slot = (stride === 2 ? a : Math.imul(a, 0x9e3779b1) >>> 0) & this.mask;
    for (;;) {
      const lo = slots[slot * stride]!;
      if (stride === 2) {
        const hi = slots[slot * 2 + 1]!;
        if (lo === 0 && hi === 0) return slot;
        if (lo === a && hi === b) return -1;
      } else {
        if (lo === 0) return slot;
        if (lo === a && (this.extra === undefined || this.extra[slot] === (b & 0xffff))) return -1;
      }
      slot = (slot + 1) & this.mask;
    }
  }

  private grow(): void {
    const old = this.slots;
    const oldExtra = this.extra;
    const { stride } = this;
    this.slots = new Uint32Array(old.length * 2);
    if (oldExtra) this.extra = new Uint16Array(oldExtra.length * 2);
    this.mask = (this.slots.length / stride) - 1;
    for (let i = 0; i < old.length; i += stride) {
      const a = old[i]!;
      const b = stride === 2 ? old[i + 1]! : (oldExtra?.[i] ?? 0);
      if (a !== 0 || b !== 0) this.put(this.slotOf(a, b), a, b);
    }
  }
}

const pair: [number, number] = [0, 0];

/** The 32-bit hash a set keeps of `value` (never 0), for a name made of a string: not a defence. */
export function hash32(value: string): number {
  hash(value, false, false);
  return pair[0];
}

/**
 * FNV-1a, and for a 64-bit (or 48-bit) hash a shift-add lane with a final avalanche, into `pair`.
 * Neither word of a 64-bit hash, nor the first word alone, is ever 0 (0 marks a free slot). A
 * 32-bit set reads only the first word, so the second lane is not computed for it. Without case,
 * ASCII letters are folded as they are read; a string with other characters is hashed again
 * lowercased as a whole (the first character beyond ASCII says so: no scan of every string first).
 */
function hash(value: string, foldCase: boolean, wide: boolean): void {
  let a = 0x811c9dc5;
  let b = 0x9747b28c ^ value.length;
  for (let i = 0; i < value.length; i++) {
    let c = value.charCodeAt(i);
    if (foldCase) {
      if (c >= 0x41 && c <= 0x5a) c |= 0x20;
      else if (c > 0x7f) return hash(value.toLowerCase(), false, wide);
    }
    a = Math.imul(a ^ c, 0x01000193);
    if (wide) b = ((b << 5) - b + c) ^ (b >>> 27); // a second lane without a multiply: it is the hot loop
  }
  pair[0] = (a >>> 0) || 1;
  if (!wide) return;
  b = Math.imul(b ^ (b >>> 16), 0x85ebca6b);
  b = Math.imul(b ^ (b >>> 13), 0xc2b2ae35);
  b ^= b >>> 16;
  pair[1] = b >>> 0;
}
