import { LineSplitter } from '../utils/line-splitter.js';

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
export async function* readLineBatches(chunks: AsyncIterable<Buffer | string>): AsyncGenerator<Line[]> {
  const splitter = new LineSplitter();
  let line = 0;
  let batch: Line[] = [];
  const visit = (buf: Buffer, start: number, end: number): void => {
    batch.push({ text: decode(buf, start, end, line === 0), line: ++line });
  };
  for await (const chunk of chunks) {
    splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk, visit);
    if (batch.length > 0) {
      yield batch;
      batch = [];
    }
  }
  const { rest } = splitter;
  if (rest) yield [{ text: decode(rest, 0, rest.length, line === 0), line: ++line }];
}

function decode(buf: Buffer, start: number, end: number, first: boolean): string {
  if (end > start && buf[end - 1] === CR) end--;
  if (first && buf[start] === 0xef && buf[start + 1] === 0xbb && buf[start + 2] === 0xbf) start += 3;
  return buf.toString('utf8', start, end);
}
