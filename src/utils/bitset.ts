/**
 * A growable set of small non-negative integers, one bit each: 10 million seqs cost 1.25 MB.
 * This is how finished jobs are remembered without keeping anything else about them.
 */
export class Bitset {
  private bits: Uint8Array;

  constructor(capacity = 1024) {
    this.bits = new Uint8Array(Math.ceil(capacity / 8));
  }

  has(n: number): boolean {
    const byte = n >>> 3;
    return byte < this.bits.length && (this.bits[byte]! & (1 << (n & 7))) !== 0;
  }

  /** Sets bit n and says whether it was clear before. */
  add(n: number): boolean {
    const byte = n >>> 3;
    if (byte >= this.bits.length) this.grow(byte + 1);
    const mask = 1 << (n & 7);
    const was = this.bits[byte]!;
    this.bits[byte] = was | mask;
    return (was & mask) === 0;
  }

  /** Clears bit n and says whether it was set before. */
  delete(n: number): boolean {
    const byte = n >>> 3;
    if (byte >= this.bits.length) return false;
    const mask = 1 << (n & 7);
    const was = this.bits[byte]!;
    this.bits[byte] = was & ~mask;
    return (was & mask) !== 0;
  }

  private grow(minBytes: number): void {
    const next = new Uint8Array(Math.max(minBytes, this.bits.length * 2));
    next.set(this.bits);
    this.bits = next;
  }
}
