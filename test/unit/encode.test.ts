import { describe, expect, it } from 'vitest';
import { checkUrl, type CheckedUrl } from '../../src/input/url-line.js';
import { encodeInto, encodeRecord, roomFor } from '../../src/joblog/encode.js';
import type { JoblogRecord } from '../../src/joblog/records.js';

const TS = '2026-11-22T05:34:33.706Z';
// URLs as the resolver stores them: serialized by the URL parser.
const url = (text: string) => (checkUrl(text) as CheckedUrl).href;

/** The records of a bulk run, which encodeInto() must write itself. */
const common: JoblogRecord[] = [
  { t: 'job', seq: 2, url: url('https://user:pw@example.org:8443/p'), out: 'plain.bin', src: 'stdin:2' },
  // The parser keeps a backslash in the query: it must be escaped like any other.
  { t: 'job', seq: 5, url: url('http://example.org/f.bin?p=C:\\tmp\\new'), out: 'f "q".bin', src: 'my "list".txt:5' },
  { t: 'job', seq: 6, url: url('http://x/y'), out: 'd/y', dir: 'd', checksum: 'sha-256=ab', named: true, src: 'a:6' },
  { t: 'start', seq: 1, ts: TS, attempt: 1 },
  { t: 'start', seq: 1, ts: TS, attempt: 2, offset: 8192 },
  { t: 'start', seq: 1, ts: TS, attempt: 3, etag: '"abc"' },
  { t: 'start', seq: 9_007_199_254_740_991, ts: TS, attempt: 4, offset: 0, etag: 'W/"a\\b"', lastModified: 'Sun, 22 Nov 2026 14:57:17 GMT' },
  { t: 'start', seq: 1, ts: TS, attempt: 5, lastModified: 'Sun, 22 Nov 2026 14:57:17 GMT' },
  { t: 'done', seq: 0, ts: TS, bytes: 16384, path: 'a~b/\x7f.bin', status: 200 },
  { t: 'done', seq: 2, ts: TS, bytes: 0, path: 'p', status: 206, sha256: 'ab' },
];

/** Records left to encodeRecord(): characters JSON escapes or UTF-8 widens, headers, other types, numbers that are not whole. */
const others: JoblogRecord[] = [
  { t: 'job', seq: 1, url: url('http://example.org/a b/"q"/\\x/é/😀?x=<1>'), out: 'naïve "name" \\ \u0007.jpg', src: 'my "list".txt:1' },
  { t: 'job', seq: 3, url: url('http://x/'), out: 'lone\ud800surrogate', src: 'a:3' },
  { t: 'job', seq: 4, url: url('http://x/y'), out: 'y', src: 'a:4', headers: { 'x-a': '1' } },
  { t: 'start', seq: 1, ts: TS, attempt: 4, offset: 10, etag: '"a\\b\u0001"' },
  { t: 'done', seq: 1, ts: TS, bytes: 16384, path: 'dir/é "x".bin', status: 200 },
  { t: 'done', seq: 1, ts: TS, bytes: 1.5, path: 'x', status: 200 },
  { t: 'done', seq: -1, ts: TS, bytes: 1, path: 'x', status: 200 },
  { t: 'fail', seq: 3, ts: TS, attempt: 1, final: true, code: 'HTTP_404', error: 'HTTP 404 "Not Found"' },
  { t: 'eof', ts: TS, jobs: 4 },
];

/** What the joblog writer does with a record: encodeInto(), else encodeRecord(). */
function line(record: JoblogRecord, buf: Buffer, at: number): { text: string; direct: boolean } {
  const end = encodeInto(record, buf, at);
  if (end < 0) return { text: encodeRecord(record), direct: false };
  expect(end - at).toBeLessThanOrEqual(roomFor(record));
  return { text: buf.toString('utf8', at, end), direct: true };
}

describe('encode', () => {
  it('writes exactly what JSON.stringify writes, for every record and awkward values', () => {
    const buf = Buffer.alloc(64 * 1024, 0xff);
    let at = 7; // not at the start of the block, as most records are
    for (const record of [...common, ...others]) {
      const { text } = line(record, buf, at);
      expect(text).toBe(`${JSON.stringify(record)}\n`);
      at += 300;
    }
  });

  it('writes the common records straight into the block, and leaves the others to encodeRecord', () => {
    const buf = Buffer.alloc(64 * 1024);
    expect(common.map((record) => line(record, buf, 0).direct)).toEqual(common.map(() => true));
    expect(others.map((record) => line(record, buf, 0).direct)).toEqual(others.map(() => false));
  });

  it('agrees with JSON.stringify on 20,000 random records', () => {
    // A fixed-seed generator: the same records every run.
    let seed = 12345;
    const next = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    const alphabet = ['a', 'Z', '0', '/', ' ', '~', '"', '\\', '\u007f', '\n', '\u0001', 'é', '😀', '\ud800'];
    const str = () => Array.from({ length: next(12) }, () => (next(4) === 0 ? alphabet[next(alphabet.length)] : 'x')).join('');
    const numeric = () => [0, 7, 10, 99, 100, 65_535, 2 ** 53 - 1, 1.25, -3][next(9)]!;
    const buf = Buffer.alloc(1 << 20);
    let at = 0;
    for (let i = 0; i < 20_000; i++) {
      const choice = next(3);
      const record: JoblogRecord =
        choice === 0
          ? { t: 'job', seq: numeric(), url: str(), out: str(), ...(next(2) ? { dir: str() } : {}), src: str() }
          : choice === 1
            ? { t: 'start', seq: numeric(), ts: str(), attempt: numeric(), ...(next(2) ? { offset: numeric() } : {}), ...(next(2) ? { etag: str() } : {}) }
            : { t: 'done', seq: numeric(), ts: str(), bytes: numeric(), path: str(), status: numeric() };
      if (at > buf.length - 4096) at = 0;
      const { text } = line(record, buf, at);
      expect(text).toBe(`${JSON.stringify(record)}\n`);
      at += text.length;
    }
  });

  it('a record it gives up on leaves the bytes before it as they were', () => {
    const buf = Buffer.alloc(1024, 0x61);
    for (const record of others) {
      expect(encodeInto(record, buf, 100)).toBe(-1);
      expect(buf.subarray(0, 100).every((byte) => byte === 0x61)).toBe(true);
    }
  });
});
