import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRecords, runCli, withTempDir } from '../helpers/cli.js';
import { contentFor, useServer } from '../helpers/server.js';

describe('one transfer: status, length, redirects, names', () => {
  const server = useServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const body = contentFor(path);
    if (path.startsWith('/status/')) {
      res.writeHead(Number(path.split('/')[2]));
      res.end('no');
    } else if (path === '/short.bin') {
      // Promises more than it sends, then hangs up.
      res.writeHead(200, { 'content-length': body.length });
      res.write(body.subarray(0, 100), () => res.destroy());
    } else if (path.startsWith('/hop/')) {
      const n = Number(path.split('/')[2]);
      res.writeHead(302, { location: n > 0 ? `/hop/${n - 1}/target.bin` : '/final/target.bin' });
      res.end();
    } else if (path === '/loop') {
      res.writeHead(302, { location: '/loop' });
      res.end();
    } else if (path === '/chunked.bin') {
      res.writeHead(200); // no Content-Length: chunked
      res.write(body.subarray(0, 10));
      res.end(body.subarray(10));
    } else {
      res.writeHead(200, { 'content-length': body.length });
      res.end(body);
    }
  });

  async function download(dir: string, paths: string[], extra: string[] = []) {
    await writeFile(join(dir, 'urls.txt'), paths.map((p) => server.url(p)).join('\n'));
    const result = await runCli(['--joblog', 'run.jsonl', '-d', 'out', ...extra, 'urls.txt'], dir);
    return { result, records: await readRecords(join(dir, 'run.jsonl')), files: await readdir(join(dir, 'out')).catch(() => []) };
  }

  it('a non-2xx answer is a failed job with its code, and no file appears', async () => {
    await withTempDir(async (dir) => {
      const { result, records, files } = await download(dir, ['/status/404', '/status/500', '/status/403'], ['--retries', '1', '--retry-wait', '0.01']);
      expect(result.code).toBe(1);
      const fails = records.filter((r) => r.t === 'fail');
      // 404 and 403 are final at once; 500 is retried once, then final.
      expect(fails.map((r) => `${r.code}/${r.attempt}/${r.final}`).sort()).toEqual([
        'HTTP_403/1/true',
        'HTTP_404/1/true',
        'HTTP_500/1/false',
        'HTTP_500/2/true',
      ]);
      expect(result.stderr).toContain(`failed: ${server.url('/status/404')}: HTTP 404 Not Found`);
      expect(files).toEqual([]);
      expect(records.some((r) => r.t === 'done')).toBe(false);
    });
  });

  it('a body shorter than its Content-Length fails and leaves no final file', async () => {
    await withTempDir(async (dir) => {
      const { result, records, files } = await download(dir, ['/short.bin', '/fine.bin'], ['--retries', '1', '--retry-wait', '0.01']);
      expect(result.code).toBe(1);
      expect(records.filter((r) => r.t === 'fail').map((r) => [r.seq, r.final])).toEqual([
        [1, false],
        [1, true],
      ]);
      expect(files).not.toContain('short.bin');
      expect(files).toContain('fine.bin');
    });
  });

  it('follows redirects up to 10 and names the file after the URL that was asked for', async () => {
    await withTempDir(async (dir) => {
      const { result, records, files } = await download(dir, ['/hop/9/start.bin', '/loop', '/chunked.bin']);
      expect(result.code).toBe(1);
      expect(files.sort()).toEqual(['chunked.bin', 'start.bin']);
      expect((await readFile(join(dir, 'out', 'start.bin'))).equals(contentFor('/final/target.bin'))).toBe(true);
      expect((await readFile(join(dir, 'out', 'chunked.bin'))).equals(contentFor('/chunked.bin'))).toBe(true);
      expect(records.find((r) => r.t === 'fail')).toMatchObject({ seq: 2, code: 'TOO_MANY_REDIRECTS' });
    });
  });

  it('gives jobs that want the same name distinct names, and keeps them on resume', async () => {
    await withTempDir(async (dir) => {
      const paths = ['/a/same.bin', '/b/same.bin', '/c/SAME.bin', '/d/same.bin?x=1', '/a/same.bin'];
      const { result, records, files } = await download(dir, paths);
      expect(result.code).toBe(0);
      const outs = records.filter((r) => r.t === 'job').map((r) => r.out);
      // The repeated URL is the same job; SAME.bin clashes without case.
      expect(outs).toEqual(['same.bin', 'same.1.bin', 'SAME.2.bin', 'same.3.bin']);
      expect(files.sort()).toEqual(['SAME.2.bin', 'same.1.bin', 'same.3.bin', 'same.bin']);
      expect((await readFile(join(dir, 'out', 'same.1.bin'))).equals(contentFor('/b/same.bin'))).toBe(true);

      const again = await download(dir, [...paths, '/e/same.bin']);
      expect(again.result.code).toBe(0);
      expect(again.records.filter((r) => r.t === 'job').map((r) => r.out)).toEqual([...outs, 'same.4.bin']);
    });
  });
});
