import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fetched, fetcherAvailable } from '../../src/http/native-fetcher.js';
import { run, type RunOptions } from '../../src/index.js';
import { rangeStart, useRawServers } from '../helpers/raw-server.js';
import { readRecords, useTempDirs, waitFor } from '../helpers/cli.js';

const { rawServer } = useRawServers();
const tempDir = useTempDirs('dl-fetcher-');

/** A small body with a pattern, so that a byte out of place shows. */
function bodyOf(size: number): Buffer {
  const body = Buffer.alloc(size);
  for (let i = 0; i < size; i++) body[i] = (i * 31 + 7) & 0xff;
  return body;
}

const SMALL = bodyOf(16 * 1024);

function ok(body: Buffer, more = ''): Buffer {
  return Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n${more}\r\n`), body]);
}

/** Runs dl in-process on `urls` into a fresh folder. */
async function download(urls: string[], options: Partial<RunOptions> = {}) {
  const dir = await tempDir();
  await writeFile(join(dir, 'urls.txt'), urls.join('\n'));
  const summary = await run({ inputs: [join(dir, 'urls.txt')], joblog: join(dir, 'run.jsonl'), destdir: join(dir, 'out'), retryWaitMs: 10, ...options });
  return { dir, summary, file: (name: string) => readFile(join(dir, 'out', name)), files: async () => (await readdir(join(dir, 'out'))).sort() };
}

/** What the fetcher's counters moved by while `work` ran. */
async function counted<T>(work: () => Promise<T>): Promise<{ result: T; exchanges: number; whole: number; handedOver: number }> {
  const before = { ...fetched };
  const result = await work();
  return { result, exchanges: fetched.exchanges - before.exchanges, whole: fetched.whole - before.whole, handedOver: fetched.handedOver - before.handedOver };
}

describe.skipIf(!fetcherAvailable())('the native fetcher', () => {
  it('fetches small files whole, byte for byte, over one keep-alive connection', async () => {
    const server = await rawServer((socket) => socket.write(ok(SMALL)));
    const urls = Array.from({ length: 20 }, (_, i) => server.url(`/f${i}.bin`));
    const { result, exchanges, whole } = await counted(() => download(urls, { perHost: 1 }));
    expect(result.summary).toMatchObject({ done: 20, failed: 0 });
    expect([exchanges, whole]).toEqual([20, 20]);
    for (let i = 0; i < 20; i++) expect((await result.file(`f${i}.bin`)).equals(SMALL)).toBe(true);
    expect(server.connections()).toBe(1);
  });

  it.each([
    ['removed', (out: string) => rm(out, { recursive: true })],
    ['moved away', (out: string) => rename(out, `${out}.old`)],
  ])('writes into the destination folder a run names, one that was %s since the last run included', async (_, change) => {
    // The engine keeps the folders of its files open (native/fetcher.c, folder_of) while a run
    // lasts: the next run must look its folder up by its path.
    const server = await rawServer((socket) => socket.write(ok(SMALL)));
    const dir = await tempDir();
    const out = join(dir, 'out');
    const fetch = async (name: string) => {
      await writeFile(join(dir, `${name}.txt`), server.url(`/${name}.bin`));
      return run({ inputs: [join(dir, `${name}.txt`)], joblog: join(dir, `${name}.jsonl`), destdir: out, retries: 0 });
    };
    const { result, whole } = await counted(async () => {
      const first = await fetch('one');
      await change(out);
      return [first, await fetch('two')];
    });
    expect(result.map((summary) => [summary.done, summary.failed])).toEqual([
      [1, 0],
      [1, 0],
    ]);
    expect(whole).toBe(2);
    expect(await readdir(out)).toEqual(['two.bin']);
    expect((await readFile(join(out, 'two.bin'))).equals(SMALL)).toBe(true);
  });

  it('writes into a destination folder removed and made again while the run lasts', async () => {
    // The folder kept open is then one nothing can be made in: the engine opens it by its path again.
    let removed: () => void = () => undefined;
    const folderRemade = new Promise<void>((resolve) => (removed = resolve));
    const server = await rawServer((socket, head) => {
      if (head.startsWith('GET /one.bin ')) socket.write(ok(SMALL));
      else void folderRemade.then(() => socket.write(ok(SMALL)));
    });
    const dir = await tempDir();
    const out = join(dir, 'out');
    await writeFile(join(dir, 'urls.txt'), [server.url('/one.bin'), server.url('/two.bin')].join('\n'));
    const running = counted(() => run({ inputs: [join(dir, 'urls.txt')], joblog: join(dir, 'run.jsonl'), destdir: out, perHost: 1, retries: 0 }));
    await waitFor(async () => (await readdir(out).catch((): string[] => [])).includes('one.bin'));
    await rm(out, { recursive: true });
    await mkdir(out);
    removed();
    const { result, whole } = await running;
    expect([result.done, result.failed, whole]).toEqual([2, 0, 2]);
    expect(await readdir(out)).toEqual(['two.bin']);
  });

  it('a server that closes each connection after a 100 KiB answer costs nothing but connections', async () => {
    // The first read of such an answer fills the engine's 64 KiB buffer; the close then comes
    // while the connection is idle, and the next request finds a connection that is gone.
    const BIG = bodyOf(100 * 1024);
    const server = await rawServer((socket) => socket.end(ok(BIG)));
    const urls = Array.from({ length: 6 }, (_, i) => server.url(`/c${i}.bin`));
    const { result, whole } = await counted(() => download(urls, { perHost: 1 }));
    expect(result.summary).toMatchObject({ done: 6, failed: 0 });
    expect(whole).toBe(6);
    for (let i = 0; i < 6; i++) expect((await result.file(`c${i}.bin`)).equals(BIG)).toBe(true);
    expect(server.ranges).toHaveLength(6); // none asked twice
  });

  it('sends a header value byte for byte as dl\'s own connections do (Latin-1, one byte a character)', async () => {
    const heads: string[] = [];
    const server = await rawServer((socket, head) => {
      heads.push(head);
      socket.write(ok(SMALL));
    });
    const { result, whole } = await counted(() => download([server.url('/h.bin')], { headers: { 'x-note': 'caf\u00e9' } }));
    expect(result.summary).toMatchObject({ done: 1, failed: 0 });
    expect(whole).toBe(1);
    // The raw server reads heads as Latin-1: one byte 0xE9, not UTF-8's two.
    expect(heads[0]).toContain('\r\nx-note: caf\u00e9');
  });

  it('hands a 404 over with its connection: one request, failed for good, and the connection serves the next job', async () => {
    const server = await rawServer((socket, head) => {
      if (head.startsWith('GET /missing ')) socket.write('HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found');
      else socket.write(ok(SMALL));
    });
    const { result, handedOver } = await counted(() => download([server.url('/missing'), server.url('/there.bin')], { perHost: 1 }));
    expect(result.summary).toMatchObject({ done: 1, failed: 1 });
    expect(handedOver).toBe(1);
    expect(server.ranges).toHaveLength(2); // one request each
    expect(server.connections()).toBe(1);
    expect(await result.files()).toEqual(['there.bin']);
    const fails = (await readRecords(join(result.dir, 'run.jsonl'))).filter((r) => r.t === 'fail');
    expect(fails).toMatchObject([{ code: 'HTTP_404', final: true, attempt: 1 }]);
  });

  it('reads on a redirect and a chunked body over the handed connection, asking nothing twice', async () => {
    const server = await rawServer((socket, head) => {
      if (head.startsWith('GET /moved ')) return void socket.write('HTTP/1.1 302 Found\r\nLocation: /chunked.bin\r\nContent-Length: 0\r\n\r\n');
      const half = SMALL.length / 2;
      socket.write(
        Buffer.concat([
          Buffer.from(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${half.toString(16)}\r\n`),
          SMALL.subarray(0, half),
          Buffer.from(`\r\n${half.toString(16)}\r\n`),
          SMALL.subarray(half),
          Buffer.from('\r\n0\r\n\r\n'),
        ]),
      );
    });
    const { result, handedOver } = await counted(() => download([server.url('/moved')]));
    expect(result.summary).toMatchObject({ done: 1, failed: 0 });
    expect(handedOver).toBe(1); // the redirect; its next hop is the dispatcher's
    expect(server.ranges).toHaveLength(2);
    expect((await result.file('moved')).equals(SMALL)).toBe(true);
  });

  it('a body cut short keeps its .part with the answer\'s version, and the next attempt resumes it with Range', async () => {
    const CUT = 5000;
    const server = await rawServer((socket, head, nth) => {
      if (nth === 1) {
        // The head and the first bytes, then the server goes.
        socket.write(ok(SMALL, 'ETag: "v1"\r\n').subarray(0, -(SMALL.length - CUT)), () => socket.destroy());
        return;
      }
      const from = rangeStart(head) ?? 0;
      const rest = SMALL.subarray(from);
      socket.write(
        Buffer.concat([Buffer.from(`HTTP/1.1 206 Partial Content\r\nContent-Range: bytes ${from}-${SMALL.length - 1}/${SMALL.length}\r\nContent-Length: ${rest.length}\r\nETag: "v1"\r\n\r\n`), rest]),
      );
    });
    const { result, exchanges } = await counted(() => download([server.url('/cut.bin')]));
    expect(result.summary).toMatchObject({ done: 1, failed: 0 });
    expect(exchanges).toBe(1); // the resume is JavaScript's, with Range
    expect(server.ranges).toEqual([undefined, CUT]);
    expect((await result.file('cut.bin')).equals(SMALL)).toBe(true);
    const records = await readRecords(join(result.dir, 'run.jsonl'));
    expect(records.filter((r) => r.t === 'fail')).toMatchObject([{ code: 'SHORT_BODY', final: false }]);
    expect(records.filter((r) => r.t === 'start')).toMatchObject([{ etag: '"v1"' }, { offset: CUT }]);
  });

  it('a body cut short without a version leaves no .part, and is fetched again whole', async () => {
    const server = await rawServer((socket, _head, nth) => {
      if (nth === 1) return void socket.write(ok(SMALL).subarray(0, -1000), () => socket.destroy());
      socket.write(ok(SMALL));
    });
    const { result } = await counted(() => download([server.url('/plain.bin')]));
    expect(result.summary).toMatchObject({ done: 1, failed: 0 });
    expect(server.ranges).toEqual([undefined, undefined]);
    expect(await result.files()).toEqual(['plain.bin']);
    expect((await result.file('plain.bin')).equals(SMALL)).toBe(true);
  });
});
