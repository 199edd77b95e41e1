import type { Readable } from 'node:stream';

const NEWLINE = 0x0a;
const CR = 0x0d;

export interface Line {
  text: string;
  /** 1-based line number in its source. */
  line: number;
}

/**
 * Lines of a byte stream as they arrive, so that a job can start before its input ends: every
 * chunk that arrives yields the complete lines in it (one await per chunk, not per line).
 * Splits on `\n` at the byte level (no decoder state to carry), drops a trailing `\r` and a
 * UTF-8 byte-order mark, and yields the last line even without a final newline.
 */
export async function* readLineBatches(stream: Readable): AsyncGenerator<Line[]> {
  let carry: Buffer | undefined;
  let line = 0;
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    const buf = carry ? Buffer.concat([carry, bytes]) : bytes;
    const batch: Line[] = [];
    let start = 0;
    for (let nl = buf.indexOf(NEWLINE, start); nl !== -1; nl = buf.indexOf(NEWLINE, start)) {
      batch.push({ text: decode(buf, start, nl, line === 0), line: ++line });
      start = nl + 1;
    }
    carry = start < buf.length ? buf.subarray(start) : undefined;
    if (batch.length > 0) yield batch;
  }
  if (carry) yield [{ text: decode(carry, 0, carry.length, line === 0), line: ++line }];
}

function decode(buf: Buffer, start: number, end: number, first: boolean): string {
  if (end > start && buf[end - 1] === CR) end--;
  if (first && buf[start] === 0xef && buf[start + 1] === 0xbb && buf[start + 2] === 0xbf) start += 3;
  return buf.toString('utf8', start, end);
}
