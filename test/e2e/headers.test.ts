import type { IncomingHttpHeaders } from 'node:http';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRecords, runCli, withTempDir } from '../helpers/cli.js';
import { contentFor, useServer, type Handler } from '../helpers/server.js';

/** Serves contentFor(path), redirects /to/<port>/<path> to that port, and keeps every request's headers. */
function recording(seen: Array<{ path: string; headers: IncomingHttpHeaders }>): Handler {
  return (req, res) => {
    const path = req.url ?? '/';
    seen.push({ path, headers: req.headers });
    const hop = /^\/to\/(\d+)(\/.*)$/.exec(path);
    if (hop) {
      res.writeHead(302, { location: `http://127.0.0.1:${hop[1]}${hop[2]}` }).end();
      return;
    }
    const body = contentFor(path);
    res.writeHead(200, { 'content-length': body.length }).end(body);
  };
}

describe('request headers', () => {
  const seenA: Array<{ path: string; headers: IncomingHttpHeaders }> = [];
  const seenB: Array<{ path: string; headers: IncomingHttpHeaders }> = [];
  const a = useServer(recording(seenA));
  const b = useServer(recording(seenB));
  const SECRET = 'Bearer s3cret-token';
  const COOKIE = 'session=abc123';

  it('sends -H headers, keeps credentials from other origins after a redirect, and never prints them', async () => {
    await withTempDir(async (dir) => {
      const urls = [a.url('/direct/a.bin'), a.url(`/to/${b.port}/elsewhere/b.bin`), a.url(`/to/${a.port}/same/c.bin`)];
      await writeFile(join(dir, 'urls.txt'), urls.join('\n'));
      const result = await runCli(['--json', '-H', `Authorization: ${SECRET}`, '-H', `Cookie: ${COOKIE}`, '-H', 'X-Custom: yes: really', '-l', 'run.jsonl', '-d', 'out', 'urls.txt'], dir);
      expect(result.code).toBe(0);

      const direct = seenA.find((r) => r.path === '/direct/a.bin')!.headers;
      expect(direct).toMatchObject({ authorization: SECRET, cookie: COOKIE, 'x-custom': 'yes: really', 'user-agent': expect.stringMatching(/^dl\/\d+\.\d+\.\d+$/) });
      // Same origin after a redirect: the credentials go along.
      expect(seenA.find((r) => r.path === '/same/c.bin')!.headers).toMatchObject({ authorization: SECRET, cookie: COOKIE });
      // Another origin: they do not; the other headers do.
      const elsewhere = seenB.find((r) => r.path === '/elsewhere/b.bin')!.headers;
      expect(elsewhere.authorization).toBeUndefined();
      expect(elsewhere.cookie).toBeUndefined();
      expect(elsewhere['x-custom']).toBe('yes: really');
      expect((await readFile(join(dir, 'out', 'b.bin'))).equals(contentFor('/elsewhere/b.bin'))).toBe(true);

      const status = await runCli(['-l', 'run.jsonl', '--status', '--json'], dir);
      const joblog = await readFile(join(dir, 'run.jsonl'), 'utf8');
      for (const text of [result.stdout, result.stderr, status.stdout, joblog]) {
        expect(text).not.toContain('s3cret-token');
        expect(text).not.toContain('abc123');
      }
    });
  });

  it('a header value with CR/LF fails its job at once (BAD_HEADER, one attempt), and nothing reaches the server', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'urls.txt'), a.url('/crlf/c.bin'));
      const result = await runCli(['--json', '-H', 'X-Evil: 1\r\nInjected: yes', '-l', 'run.jsonl', '-d', 'out', 'urls.txt'], dir);
      expect(result.code).not.toBe(0);
      const joblog = await readRecords(join(dir, 'run.jsonl'));
      expect(joblog.filter((r) => r.t === 'fail')).toMatchObject([{ code: 'BAD_HEADER', attempt: 1, final: true }]);
      expect(seenA.some((r) => r.path === '/crlf/c.bin')).toBe(false);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    });
  });

  it('--user-agent replaces the default; a header without a colon is a usage error', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'urls.txt'), a.url('/ua/u.bin'));
      expect((await runCli(['--user-agent', 'archiver/2.0 (+contact)', '-l', 'run.jsonl', '-d', 'out', 'urls.txt'], dir)).code).toBe(0);
      expect(seenA.find((r) => r.path === '/ua/u.bin')!.headers['user-agent']).toBe('archiver/2.0 (+contact)');
      const bad = await runCli(['-H', 'no colon here', 'urls.txt'], dir);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('expected "Name: value"');
    });
  });
});

describe('--cookies', () => {
  const seen: Array<{ path: string; headers: IncomingHttpHeaders }> = [];
  const server = useServer(recording(seen));

  it('sends the cookies of a cookies.txt file that match each request, and never prints them', async () => {
    await withTempDir(async (dir) => {
      const jar = [
        '# Netscape HTTP Cookie File',
        '127.0.0.1\tFALSE\t/c\tFALSE\t0\tsession\tabc123',
        '127.0.0.1\tFALSE\t/\tTRUE\t0\tsecureonly\tnope',
        '127.0.0.1\tFALSE\t/\tFALSE\t1\texpired\told',
        'example.org\tTRUE\t/\tFALSE\t0\tother\tsite',
        '#HttpOnly_127.0.0.1\tFALSE\t/\tFALSE\t4102444800\thttp\tonly',
        '',
      ].join('\n');
      await writeFile(join(dir, 'cookies.txt'), jar);
      await writeFile(join(dir, 'urls.txt'), [server.url('/c/x.bin'), server.url('/d/y.bin'), server.url('/cat/z.bin')].join('\n'));
      const result = await runCli(['--json', '--cookies', 'cookies.txt', '-H', 'Cookie: given=1', '-l', 'run.jsonl', '-d', 'out', 'urls.txt'], dir);
      expect(result.code).toBe(0);
      const cookie = (path: string) => seen.find((r) => r.path === path)!.headers.cookie;
      expect(cookie('/c/x.bin')).toBe('given=1; session=abc123; http=only');
      expect(cookie('/d/y.bin')).toBe('given=1; http=only');
      expect(cookie('/cat/z.bin')).toBe('given=1; http=only'); // "/c" is not a prefix path of "/cat"
      for (const text of [result.stdout, result.stderr, await readFile(join(dir, 'run.jsonl'), 'utf8')]) expect(text).not.toContain('abc123');

      const missing = await runCli(['--cookies', 'nope.txt', '-l', 'run2.jsonl', '-d', 'out', 'urls.txt'], dir);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain('cannot read the cookies file nope.txt: no such file');
    });
  });

  const other = useServer(recording(seen));

  it('sends each redirect hop the cookies that match it, on another origin too', async () => {
    await withTempDir(async (dir) => {
      // Cookies belong to a host, whatever its port: the second server is another origin, same host.
      await writeFile(join(dir, 'cookies.txt'), '127.0.0.1\tFALSE\t/c\tFALSE\t0\tsession\tabc123\n');
      await writeFile(join(dir, 'urls.txt'), [server.url(`/to/${other.port}/c/cross.bin`), server.url(`/to/${server.port}/c/same.bin`)].join('\n'));
      const result = await runCli(['--cookies', 'cookies.txt', '-H', 'Cookie: given=1', '-l', 'run.jsonl', '-d', 'out', 'urls.txt'], dir);
      expect(result.code).toBe(0);
      const cookie = (path: string) => seen.find((r) => r.path === path)!.headers.cookie;
      expect(cookie(`/to/${other.port}/c/cross.bin`)).toBe('given=1'); // the first hop's path is not under /c
      // The -H cookie stays with the origin it was given for; the jar's goes wherever it matches.
      expect(cookie('/c/cross.bin')).toBe('session=abc123');
      expect(cookie('/c/same.bin')).toBe('given=1; session=abc123');
      expect((await readFile(join(dir, 'out', 'cross.bin'))).equals(contentFor('/c/cross.bin'))).toBe(true);
    });
  });

  it('never reads a path that starts with // as another host', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'cookies.txt'), 'example.org\tTRUE\t/\tFALSE\t0\tother\tsite\n');
      await writeFile(join(dir, 'urls.txt'), server.url('//example.org/c/slashes.bin'));
      expect((await runCli(['--cookies', 'cookies.txt', '-l', 'run.jsonl', '-d', 'out', 'urls.txt'], dir)).code).toBe(0);
      const request = seen.find((r) => r.path === '//example.org/c/slashes.bin');
      expect(request).toBeDefined();
      expect(request!.headers.cookie).toBeUndefined();
    });
  });
});
