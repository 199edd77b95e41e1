import { createHash } from 'node:crypto';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run, type DlEvent, type RunOptions } from '../../src/index.js';
import { readRecords, useTempDirs, waitFor } from '../helpers/cli.js';
import { expectedBody, hostileHandler, sizedPath } from '../helpers/hostile-server.js';
import { useServer } from '../helpers/server.js';

describe('each way a server can misbehave', () => {
  const server = useServer(hostileHandler());
  const other = useServer(hostileHandler());
  const tempDir = useTempDirs('dl-hostile-');

  /** Runs dl in-process on URLs of `server` (paths) or full URLs, with fast backoff unless told. */
  async function download(urls: string[], options: Partial<RunOptions> = {}) {
    const dir = await tempDir();
    await writeFile(join(dir, 'urls.txt'), urls.map((u) => (u.startsWith('/') ? server.url(u) : u)).join('\n'));
    const events: DlEvent[] = [];
    const summary = await run({
      inputs: [join(dir, 'urls.txt')],
      joblog: join(dir, 'run.jsonl'),
      destdir: join(dir, 'out'),
      retryWaitMs: 10,
      onEvent: (event) => events.push(event),
      ...options,
    });
    const records = await readRecords(join(dir, 'run.jsonl'));
    const file = (name: string) => readFile(join(dir, 'out', name));
    const files = async () => (await readdir(join(dir, 'out'))).sort();
    return { dir, summary, events, records, file, files };
  }

  const rangeRequests = (path: string) => server.log.filter((r) => r.path === path && r.range);

  it.each(['500', '502', '503', '504', '408'])('HTTP %s twice, then the file: retried and byte-correct', async (code) => {
    const path = `/status/${code}/2/s-${code}.bin`;
    const { summary, records, file } = await download([path]);
    expect(summary).toMatchObject({ done: 1, failed: 0 });
    expect((await file(`s-${code}.bin`)).equals(expectedBody(path))).toBe(true);
    expect(records.filter((r) => r.t === 'fail').map((r) => [r.code, r.final])).toEqual([
      [`HTTP_${code}`, false],
      [`HTTP_${code}`, false],
    ]);
  });

  it.each(['404', '410'])('HTTP %s is final at once: one request, no file', async (code) => {
    const path = `/gone/${code}/g-${code}.bin`;
    const { summary, records, events, files } = await download([path]);
    expect(summary).toMatchObject({ done: 0, failed: 1 });
    expect(server.requests.filter((p) => p === path)).toHaveLength(1);
    expect(records.filter((r) => r.t === 'fail')).toMatchObject([{ code: `HTTP_${code}`, final: true, attempt: 1 }]);
    expect(events.find((e) => e.type === 'fail')).toMatchObject({ url: server.url(path), code: `HTTP_${code}` });
    expect(await files()).toEqual([]);
  });

  it('429 with Retry-After cools down the whole host while other hosts carry on', async () => {
    const limited = '/retry-after/429/1/1/limited.bin';
    const sameHost = Array.from({ length: 3 }, (_, i) => `/clean/same-${i}.bin`);
    const otherHost = Array.from({ length: 6 }, (_, i) => other.url(`/slow/40/other-${i}.bin`));
    const started = performance.now();
    const { summary, file } = await download([limited, ...sameHost, ...otherHost], {
      hostLimits: new Map([[`127.0.0.1:${server.port}`, 1]]),
    });
    expect(summary).toMatchObject({ done: 10, failed: 0 });
    expect((await file('limited.bin')).equals(expectedBody(limited))).toBe(true);

    // After the 429, nothing of that host is requested for about a second; the other host works.
    const at = (log: typeof server.log, path: string) => log.find((r) => r.path === path)!;
    const first429 = server.log.findIndex((r) => r.path === limited);
    const afterIt = server.log.slice(first429 + 1);
    expect(afterIt.length).toBeGreaterThan(0);
    const cooled = afterIt[0]!;
    expect(cooled.at - at(server.log, limited).at).toBeGreaterThanOrEqual(900);
    const otherDuringCooldown = other.log.filter((r) => r.at > at(server.log, limited).at && r.at < cooled.at);
    expect(otherDuringCooldown.length).toBeGreaterThan(0);
    expect(performance.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('503 with an HTTP-date Retry-After is honoured too', async () => {
    const path = `/retry-after/503/${encodeURIComponent('Thu, 01 Jan 1970 00:00:00 GMT')}/1/dated.bin`;
    const { summary, records, file } = await download([path]);
    expect(summary).toMatchObject({ done: 1 });
    expect(records.find((r) => r.t === 'fail')).toMatchObject({ code: 'HTTP_503', final: false });
    expect((await file('dated.bin')).equals(expectedBody(path))).toBe(true);
  });

  it('a Retry-After longer than --max-retry-after fails the job with the reason', async () => {
    const { summary, records } = await download(['/retry-after/429/3600/1/patient.bin']);
    expect(summary).toMatchObject({ done: 0, failed: 1 });
    const fail = records.find((r) => r.t === 'fail')!;
    expect(fail).toMatchObject({ code: 'HTTP_429', final: true });
    expect(String(fail.error)).toContain('Retry-After of 3600 s is longer than --max-retry-after 300 s');
  });

  it('a connection reset mid-body resumes with Range and If-Range', async () => {
    const path = '/reset/2/reset.bin';
    const { summary, records, file } = await download([path]);
    expect(summary).toMatchObject({ done: 1 });
    expect((await file('reset.bin')).equals(expectedBody(path))).toBe(true);
    const ranges = rangeRequests(path);
    expect(ranges).toHaveLength(2);
    for (const r of ranges) {
      expect(r.range).toMatch(/^bytes=[1-9]\d*-$/);
      expect(r.ifRange).toMatch(/^"v1-/);
    }
    const starts = records.filter((r) => r.t === 'start');
    expect(starts[0]).toMatchObject({ attempt: 1, etag: expect.stringMatching(/^"v1-/) });
    expect(starts[1]!.offset).toBeGreaterThan(0);
  });

  it('a body that ends early (clean close) resumes with Range', async () => {
    const path = '/short/1/short.bin';
    const { summary, records, file } = await download([path]);
    expect(summary).toMatchObject({ done: 1 });
    expect(records.find((r) => r.t === 'fail')).toMatchObject({ code: 'SHORT_BODY', final: false });
    expect((await file('short.bin')).equals(expectedBody(path))).toBe(true);
    expect(rangeRequests(path)).toHaveLength(1);
  });

  it('a body that stalls longer than --timeout fails with ETIMEDOUT_BODY and resumes', async () => {
    const path = '/stall/5000/1/stall.bin';
    const { summary, records, file } = await download([path], { idleTimeoutMs: 300 });
    expect(summary).toMatchObject({ done: 1 });
    expect(records.find((r) => r.t === 'fail')).toMatchObject({
      code: 'ETIMEDOUT_BODY',
      final: false,
      error: expect.stringMatching(/^no data for 0\.3 s after \d+(\.\d)? (B|KiB)$/),
    });
    expect((await file('stall.bin')).equals(expectedBody(path))).toBe(true);
    expect(rangeRequests(path)).toHaveLength(1);
  });

  it('no response headers within --headers-timeout fails with ETIMEDOUT_HEADERS and is retried', async () => {
    const path = '/stall-headers/5000/1/late.bin';
    const { summary, records, file } = await download([path], { headersTimeoutMs: 300 });
    expect(summary).toMatchObject({ done: 1 });
    expect(records.find((r) => r.t === 'fail')).toMatchObject({ code: 'ETIMEDOUT_HEADERS', final: false });
    expect((await file('late.bin')).equals(expectedBody(path))).toBe(true);
  });

  it('an attempt longer than --max-time fails with ETIMEDOUT_TOTAL', async () => {
    // Pieces 400 ms apart: an attempt gets one or two before its 250 ms are up, so the resumed
    // second one still has several to wait for, even when a busy machine fires the timer late.
    const { summary, records } = await download([sizedPath('/slow/400/', 20_000)], { maxTimeMs: 250, retries: 1 });
    expect(summary).toMatchObject({ failed: 1 });
    expect(records.filter((r) => r.t === 'fail').map((r) => [r.code, r.final])).toEqual([
      ['ETIMEDOUT_TOTAL', false],
      ['ETIMEDOUT_TOTAL', true],
    ]);
  });

  it('a resource that changes between attempts is fetched again whole, never stitched', async () => {
    const path = '/change/changing.bin';
    const { summary, records, file } = await download([path]);
    expect(summary).toMatchObject({ done: 1 });
    const body = await file('changing.bin');
    expect(body.equals(expectedBody(path))).toBe(true); // version 2, all of it
    const [, second] = server.log.filter((r) => r.path === path);
    expect(second).toMatchObject({ range: expect.stringMatching(/^bytes=\d+-$/), ifRange: expect.stringMatching(/^"v1-/) });
    // The last attempt started from byte 0 and never claimed to continue version 1.
    const last = records.filter((r) => r.t === 'start').at(-1)!;
    expect(last.offset).toBeUndefined();
    expect(String(last.etag ?? '')).not.toMatch(/^"v1-/);
  });

  it('--max-filesize fails larger files with FILE_TOO_LARGE, announced or found while streaming', async () => {
    const limit = 10_000;
    let i = 0;
    while (expectedBody(`/clean/fits-${i}.bin`).length >= limit) i++;
    const fits = `/clean/fits-${i}.bin`;
    const paths = [sizedPath('/clean/', 20_000), sizedPath('/chunked/', 20_000)];
    const { summary, records, files } = await download([...paths, fits], { maxFilesize: limit });
    expect(summary).toMatchObject({ done: 1, failed: 2 });
    const fails = records.filter((r) => r.t === 'fail');
    expect(fails.map((r) => [r.seq, r.code, r.final])).toEqual([
      [1, 'FILE_TOO_LARGE', true],
      [2, 'FILE_TOO_LARGE', true],
    ]);
    expect(String(fails[0]!.error)).toMatch(/^file is \d+ bytes, over --max-filesize 10000$/);
    expect(String(fails[1]!.error)).toBe('file is more than 10000 bytes, over --max-filesize 10000');
    expect(server.requests.filter((p) => paths.includes(p))).toHaveLength(2); // not retried
    expect((await files()).filter((name) => !name.endsWith('.part'))).toEqual([`fits-${i}.bin`]);
  });

  it('--hash sha256 records the digest of every file, also one resumed after a break', async () => {
    const paths = ['/clean/h1.bin', '/chunked/h2.bin', sizedPath('/slow/40/', 30_000), '/reset/2/h4.bin'];
    const { summary, records } = await download(paths, { hash: 'sha256' });
    expect(summary).toMatchObject({ done: 4 });
    const urlOf = new Map(records.filter((r) => r.t === 'job').map((r) => [r.seq, new URL(String(r.url)).pathname]));
    const dones = records.filter((r) => r.t === 'done');
    expect(dones).toHaveLength(4);
    for (const done of dones) {
      const path = urlOf.get(done.seq)!;
      expect(done.sha256, path).toBe(createHash('sha256').update(expectedBody(path)).digest('hex'));
    }
    expect(rangeRequests('/reset/2/h4.bin').length).toBe(2); // the digest covers bytes from three attempts
  });

  it('chunked and slow bodies arrive whole', async () => {
    const paths = ['/chunked/chunked.bin', '/slow/5/slow.bin'];
    const { summary, file } = await download(paths);
    expect(summary).toMatchObject({ done: 2 });
    expect((await file('chunked.bin')).equals(expectedBody(paths[0]!))).toBe(true);
    expect((await file('slow.bin')).equals(expectedBody(paths[1]!))).toBe(true);
  });

  it('gives up after --retries and says so', async () => {
    const path = '/status/500/99/hopeless.bin';
    const { summary, records } = await download([path], { retries: 2 });
    expect(summary).toMatchObject({ failed: 1 });
    expect(server.requests.filter((p) => p === path)).toHaveLength(3);
    expect(records.filter((r) => r.t === 'fail').at(-1)).toMatchObject({
      final: true,
      attempt: 3,
      error: 'HTTP 500 Internal Server Error; gave up after 3 attempts',
    });
  });

  it('a refused connection is retried, then reported', async () => {
    const { summary, records } = await download(['http://127.0.0.1:1/refused.bin'], { retries: 2 });
    expect(summary).toMatchObject({ failed: 1 });
    expect(records.filter((r) => r.t === 'fail').map((r) => [r.code, r.final])).toEqual([
      ['ECONNREFUSED', false],
      ['ECONNREFUSED', false],
      ['ECONNREFUSED', true],
    ]);
  });

  it('a .part left by an interrupted run is resumed by the next run with Range', async () => {
    const path = '/slow/20/interrupted.bin';
    const dir = await tempDir();
    await writeFile(join(dir, 'urls.txt'), server.url(path));
    const options = { inputs: [join(dir, 'urls.txt')], joblog: join(dir, 'run.jsonl'), destdir: join(dir, 'out') };
    const part = join(dir, 'out', 'interrupted.bin.part');
    const controller = new AbortController();
    const first = run({ ...options, signal: controller.signal });
    await waitFor(async () => ((await stat(part).catch(() => undefined))?.size ?? 0) > 4096, 30_000, '.part to grow');
    controller.abort();
    expect(await first).toMatchObject({ interrupted: true, done: 0, pending: 1 });
    const kept = (await stat(part)).size;
    expect(kept).toBeGreaterThan(0);

    const second = await run(options);
    expect(second).toMatchObject({ done: 1, pending: 0 });
    expect((await readFile(join(dir, 'out', 'interrupted.bin'))).equals(expectedBody(path))).toBe(true);
    const resumed = rangeRequests(path).at(-1)!;
    expect(Number(/bytes=(\d+)-/.exec(resumed.range!)![1])).toBe(kept);
    expect(resumed.ifRange).toMatch(/^"v1-/);
  });
});
