import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRecords, runCli, withTempDir } from '../helpers/cli.js';
import { contentFor, contentHandler, useServer } from '../helpers/server.js';

describe('bad input lines and hostile paths', () => {
  const server = useServer(contentHandler());

  it('reports each rejected line as file:line: reason, downloads the rest, exits 1', async () => {
    await withTempDir(async (dir) => {
      const lines = [
        server.url('/good-1.bin'),
        'this is garbage',
        'ftp://127.0.0.1/file.bin',
        'file:///etc/passwd',
        'javascript:alert(1)',
        '',
        '# a comment',
        'http://',
        server.url('/good-2.bin'),
        'ftp://user:secret@127.0.0.1/x',
      ];
      await writeFile(join(dir, 'urls.txt'), lines.join('\n'));
      const result = await runCli(['--joblog', 'run.jsonl', '-d', 'out', 'urls.txt'], dir);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('urls.txt:2: not a URL: "this is garbage"');
      expect(result.stderr).toMatch(/urls\.txt:3: unsupported scheme "ftp"/);
      expect(result.stderr).toMatch(/urls\.txt:4: unsupported scheme "file"/);
      expect(result.stderr).toMatch(/urls\.txt:5: unsupported scheme "javascript"/);
      expect(result.stderr).toMatch(/urls\.txt:8: not a URL/);
      expect(result.stderr).toMatch(/urls\.txt:10: unsupported scheme "ftp"/);
      expect(result.stderr).not.toContain('secret');
      expect(result.stderr).not.toMatch(/urls\.txt:(1|6|7|9):/);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect((await readdir(join(dir, 'out'))).sort()).toEqual(['good-1.bin', 'good-2.bin']);
      const jobs = (await readRecords(join(dir, 'run.jsonl'))).filter((r) => r.t === 'job');
      expect(jobs.map((r) => r.src)).toEqual(['urls.txt:1', 'urls.txt:9']);
    });
  });

  it('never writes outside the destination folder, whatever the URL path says', async () => {
    await withTempDir(async (dir) => {
      const paths = [
        '/a/..%2f..%2fescape-1.txt',
        '/%2e%2e%2fescape-2.txt',
        '/a/%2e%2e/%2e%2e/%2e%2e/escape-3.txt',
        '/..%2F..%2F..%2Ftmp%2Fescape-4.txt',
        '/%2e%2e',
        '/a/b/..',
        '/%2fetc%2fescape-5',
        '/..%5c..%5cescape-6.txt',
      ];
      await writeFile(join(dir, 'urls.txt'), paths.map((p) => `http://127.0.0.1:${server.port}${p}`).join('\n'));
      const result = await runCli(['--joblog', 'run.jsonl', '-d', 'out', 'urls.txt'], dir);
      expect(result.code).toBe(0);
      // Only what dl was told to create exists next to the destination folder.
      expect((await readdir(dir)).sort()).toEqual(['out', 'run.jsonl', 'urls.txt']);
      const files = await readdir(join(dir, 'out'), { recursive: true });
      expect(files.length).toBe(paths.length);
      for (const name of files) {
        expect(name).not.toContain('/');
        expect(name).not.toContain('\\');
        expect(['.', '..']).not.toContain(name);
      }
      const outs = (await readRecords(join(dir, 'run.jsonl'))).filter((r) => r.t === 'job').map((r) => String(r.out));
      expect(new Set(outs).size).toBe(paths.length);
    });
  });

  it('a job named `x.part` and a job named `x` keep their own files, within a run and across runs', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'urls.txt'), [server.url('/p/foo'), server.url('/p/foo.part'), server.url('/q/bar.part')].join('\n'));
      expect((await runCli(['--joblog', 'run.jsonl', '-d', 'out', 'urls.txt'], dir)).code).toBe(0);
      // A later run adds `bar` to the same joblog: it must not take `bar.part` for its partial file.
      await writeFile(join(dir, 'more.txt'), server.url('/r/bar'));
      expect((await runCli(['--joblog', 'run.jsonl', '-d', 'out', 'more.txt'], dir)).code).toBe(0);
      const files = new Map([
        ['foo', '/p/foo'],
        ['foo.1.part', '/p/foo.part'],
        ['bar.part', '/q/bar.part'],
        ['bar.1', '/r/bar'],
      ]);
      expect((await readdir(join(dir, 'out'))).sort()).toEqual([...files.keys()].sort());
      for (const [name, path] of files) expect((await readFile(join(dir, 'out', name))).equals(contentFor(path)), name).toBe(true);
    });
  });
});
