import { describe, expect, it } from 'vitest';
import { checkUrl, type CheckedUrl } from '../../src/input/url-line.js';
import { encodeRecord } from '../../src/joblog/encode.js';
import type { JoblogRecord } from '../../src/joblog/records.js';

const TS = '2026-11-22T05:34:33.706Z';

describe('encodeRecord', () => {
  it('writes exactly what JSON.stringify writes, for every record and awkward values', () => {
    // URLs as the resolver stores them: serialized by the URL parser.
    const url = (text: string) => (checkUrl(text) as CheckedUrl).href;
    const records: JoblogRecord[] = [
      { t: 'job', seq: 1, url: url('http://example.org/a b/"q"/\\x/é/😀?x=<1>'), out: 'naïve "name" \\ \u0007.jpg', src: 'my "list".txt:1' },
      { t: 'job', seq: 2, url: url('https://user:pw@example.org:8443/p'), out: 'plain.bin', src: 'stdin:2' },
      // The parser keeps a backslash in the query: it must be escaped like any other.
      { t: 'job', seq: 5, url: url('http://example.org/f.bin?p=C:\\tmp\\new'), out: 'f.bin', src: 'a:5' },
      { t: 'job', seq: 3, url: url('http://x/'), out: 'lone\ud800surrogate', src: 'a:3' },
      { t: 'job', seq: 4, url: url('http://x/y'), out: 'y', src: 'a:4', headers: { 'x-a': '1' } },
      { t: 'start', seq: 1, ts: TS, attempt: 1 },
      { t: 'start', seq: 1, ts: TS, attempt: 2, offset: 8192 },
      { t: 'start', seq: 1, ts: TS, attempt: 3, etag: '"abc"' },
      { t: 'start', seq: 1, ts: TS, attempt: 4, offset: 10, etag: '"a\\b\u0001"', lastModified: 'Sun, 22 Nov 2026 14:57:17 GMT' },
      { t: 'start', seq: 1, ts: TS, attempt: 5, lastModified: 'Sun, 22 Nov 2026 14:57:17 GMT' },
      { t: 'done', seq: 1, ts: TS, bytes: 16384, path: 'dir/é "x".bin', status: 200 },
      { t: 'done', seq: 2, ts: TS, bytes: 0, path: 'p', status: 206, sha256: 'ab' },
      { t: 'fail', seq: 3, ts: TS, attempt: 1, final: true, code: 'HTTP_404', error: 'HTTP 404 "Not Found"' },
      { t: 'eof', ts: TS, jobs: 4 },
    ];
    for (const record of records) expect(encodeRecord(record)).toBe(`${JSON.stringify(record)}\n`);
  });
});
