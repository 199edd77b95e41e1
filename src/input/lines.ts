import { LineSplitter } from '../utils/line-splitter.js';

const CR = 0x0d;

/**
 * Most lines decoded before they are used. A chunk of input holds thousands of lines (a 256 KiB
 * read of short URLs, some 6,000), and strings decoded all at once for the whole chunk wait for
 * their turn long enough to outlive young-generation collections: in a run of 100,000 tiny
 * files, 13 of the 53 MB that survived one had been allocated splitting and decoding lines
 * (7 MB once a batch is decoded when it is asked for, docs/architecture.md).
 */
export const BATCH_LINES = 128;

export interface Line {
  text: string;
  /** 1-based line number in its source. */
  line: number;
}

/** Lines that arrived together; `chunkEnd` when they are the last of what has arrived so far. */
export interface LineBatch {
  lines: Line[];
  chunkEnd: boolean;
}

/**
 * Lines of a byte stream as they arrive, so that a job can start before its input ends: every
 * chunk that arrives yields the complete lines in it, in batches of at most `batchLines` (one
 * await per batch, not per line), each decoded only when its batch is asked for. Splits on `\n`
 * at the byte level (no decoder state to carry), drops a trailing `\r` and a UTF-8 byte-order
 * mark, and yields the last line even without a final newline.
 */
export async function* readLineBatches(chunks: AsyncIterable<Buffer | string>, batchLines = BATCH_LINES): AsyncGenerator<LineBatch> {
  const splitter = new LineSplitter();
  let line = 0;
  // Where this chunk's lines lie in it (small integers, arrays reused from chunk to chunk), and
  // the one line that began in an earlier chunk, joined in a buffer of its own.
  const starts: number[] = [];
  const ends: number[] = [];
  let count = 0;
  let joined: Buffer | undefined;
  let bytes: Buffer;
  const visit = (buf: Buffer, start: number, end: number): void => {
    if (buf !== bytes) {
      joined = buf.subarray(start, end);
      return;
    }
    starts[count] = start;
    ends[count] = end;
    count++;
  };
  for await (const chunk of chunks) {
    bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    count = 0;
    splitter.push(bytes, visit);
    let batch: Line[] = [];
    if (joined) {
      batch.push({ text: decode(joined, 0, joined.length, line === 0), line: ++line });
      joined = undefined;
    }
    // The chunk stays valid until the next one is asked for (utils/read-chunks.ts), which is
    // after its last batch.
    for (let i = 0; i < count; i++) {
      if (batch.length === batchLines) {
        yield { lines: batch, chunkEnd: false };
        batch = [];
      }
      batch.push({ text: decode(bytes, starts[i]!, ends[i]!, line === 0), line: ++line });
    }
    if (batch.length > 0) yield { lines: batch, chunkEnd: true };
  }
  const { rest } = splitter;
  if (rest) yield { lines: [{ text: decode(rest, 0, rest.length, line === 0), line: ++line }], chunkEnd: true };
}

function decode(buf: Buffer, start: number, end: number, first: boolean): string {
  if (end > start && buf[end - 1] === CR) end--;
  if (first && buf[start] === 0xef && buf[start + 1] === 0xbb && buf[start + 2] === 0xbf) start += 3;
  return buf.toString('utf8', start, end);
}
