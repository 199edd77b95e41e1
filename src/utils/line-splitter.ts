const NEWLINE = 0x0a;

/** Called for each line: its bytes are `buf[start, end)` (without the `\n`), at `offset` in the input. */
export type LineVisitor = (buf: Buffer, start: number, end: number, offset: number) => void;

/**
 * Splits a stream of byte chunks into lines at `\n`, at the byte level (no decoder state to
 * carry). Lines are handed over where they lie in the chunk; only a line split across chunks is
 * copied, never the chunk. Nothing of a chunk is kept once `push` returns, so a reader may read
 * the next chunk into the same buffer (utils/read-chunks.ts).
 */
export class LineSplitter {
  /** The start of a line that continues in the next chunk. */
  private carry: Buffer | undefined;
  /** Input offset of the first byte of `carry`, or of the next chunk when there is none. */
  private base = 0;

  push(chunk: Buffer, visit: LineVisitor): void {
    let start = 0;
    if (this.carry) {
      const nl = chunk.indexOf(NEWLINE);
      if (nl === -1) {
        this.carry = Buffer.concat([this.carry, chunk]);
        return;
      }
      const line = Buffer.concat([this.carry, chunk.subarray(0, nl)]);
      visit(line, 0, line.length, this.base);
      this.base += this.carry.length; // now the offset of this chunk's first byte
      start = nl + 1;
      this.carry = undefined;
    }
    for (let nl = chunk.indexOf(NEWLINE, start); nl !== -1; nl = chunk.indexOf(NEWLINE, start)) {
      visit(chunk, start, nl, this.base + start);
      start = nl + 1;
    }
    if (start < chunk.length) this.carry = Buffer.from(chunk.subarray(start));
    this.base += start;
  }

  /** The bytes after the last `\n` (a last line without one, or a torn one), if any. */
  get rest(): Buffer | undefined {
    return this.carry;
  }

  /** Input offset of `rest`, or the input's length when there is none. */
  get restOffset(): number {
    return this.base;
  }
}
