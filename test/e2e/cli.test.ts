import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fetcherAvailable } from '../../src/http/native-fetcher.js';
import { runCli, spawnCli, withTempDir } from '../helpers/cli.js';
import { contentFor, contentHandler, useServer } from '../helpers/server.js';

describe('command line', () => {
  const server = useServer(contentHandler());
  /** Answers after 1.5 s: a run that lasts past the first second, when V8 starts optimising (src/cli/optimise-later.ts). */
  const slow = useServer(contentHandler({ delayMs: 1500 }));

  it('without --joblog, a rerun fetches nothing that is already complete', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'urls.txt'), [server.url('/n/1.bin'), server.url('/n/2.bin')].join('\n'));
      expect((await runCli(['-d', 'out', 'urls.txt'], dir)).code).toBe(0);
      const requests = server.requests.length;
      const second = await runCli(['-d', 'out', 'urls.txt'], dir);
      expect(second.code).toBe(0);
      expect(second.stderr).toContain('2 skipped (finished before)');
      expect(server.requests.length).toBe(requests);
      expect((await readdir(join(dir, 'out'))).sort()).toEqual(['.dl-joblog.jsonl', '1.bin', '2.bin']);
      const status = await runCli(['-d', 'out', '--status', '--json'], dir);
      expect(JSON.parse(status.stdout)).toMatchObject({ jobs: 2, done: 2, failed: 0, pending: 0, resolved: true });
    });
  });

  it('--status prints a readable report', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'urls.txt'), [server.url('/s/1.bin'), server.url('/s/2.bin')].join('\n'));
      await runCli(['-l', 'run.jsonl', '-d', 'out', 'urls.txt'], dir);
      const status = await runCli(['-l', 'run.jsonl', '--status'], dir);
      expect(status.code).toBe(0);
      expect(status.stdout).toMatch(/^jobs\s+2 \(inputs read to the end\)$/m);
      expect(status.stdout).toMatch(/^done\s+2 /m);
      expect(status.stdout).toMatch(/^failed\s+0$/m);
      expect(status.stdout).toMatch(/^pending\s+0$/m);
      expect(status.stdout).toMatch(/^running\s+0 \(no dl holds the joblog\)$/m);
    });
  });

  it('usage errors and a missing joblog exit with 2 and a message, never a stack trace', async () => {
    await withTempDir(async (dir) => {
      for (const args of [['--workers', '0', 'x'], ['--bogus'], ['missing.txt'], ['-l', 'nope.jsonl', '--status'], ['--host-limit', 'oops', 'x']]) {
        const result = await runCli(args, dir);
        expect(result.code, args.join(' ')).toBe(2);
        expect(result.stderr.trim().length, args.join(' ')).toBeGreaterThan(0);
        expect(result.stderr, args.join(' ')).not.toMatch(/\n\s+at /);
      }
    });
  });

  it('a joblog that cannot be opened, or is not a joblog, stops the run with 2 and a message, and is left as it was', async () => {
    await withTempDir(async (dir) => {
      const list = `${server.url('/j/1.bin')}\n${server.url('/j/2.bin')}`; // no final newline: "torn"
      const notes = 'my notes\nmy precious last line';
      await writeFile(join(dir, 'urls.txt'), list);
      await writeFile(join(dir, 'notes.txt'), notes);
      await writeFile(join(dir, 'afile'), 'x');
      await mkdir(join(dir, 'afolder'));
      const cases: Array<[string[], RegExp]> = [
        [['-l', 'urls.txt', 'urls.txt'], /the input file urls\.txt is also the joblog/],
        [['-l', 'notes.txt', 'urls.txt'], /notes\.txt is not a joblog/],
        [['-l', 'afile/run.jsonl', 'urls.txt'], /cannot open the joblog .*afile\/run\.jsonl: a file is in the way of a folder/],
        [['-l', 'afolder', 'urls.txt'], /cannot open the joblog .*afolder: a folder is in the way of the file/],
        [[server.url('/j/1.bin')], /input file not found: http:.*echo URL \| dl -/],
      ];
      for (const [args, message] of cases) {
        const result = await runCli(['-d', 'out', ...args], dir);
        expect(result.code, args.join(' ')).toBe(2);
        expect(result.stderr, args.join(' ')).toMatch(message);
        expect(result.stderr, args.join(' ')).not.toMatch(/\n\s+at /);
      }
      expect(await readFile(join(dir, 'urls.txt'), 'utf8')).toBe(list);
      expect(await readFile(join(dir, 'notes.txt'), 'utf8')).toBe(notes);
      expect(server.requests.filter((url) => url.startsWith('/j/'))).toEqual([]);
    });
  });

  it('--help lists every option with its default; --version prints the version', async () => {
    await withTempDir(async (dir) => {
      const help = await runCli(['--help'], dir);
      expect(help.code).toBe(0);
      for (const option of ['--workers', '--per-host', '--per-site', '--host-limit', '--site-limit', '--joblog', '--destdir', '--status', '--json', '--version', '--help']) {
        expect(help.stdout).toContain(option);
      }
      expect(help.stdout).toMatch(/--workers <n>.*\(default:\s+8\)/s);
      expect(help.stdout).toMatch(/--per-host <n>.*\(default:\s+4\)/s);
      const version = await runCli(['--version'], dir);
      expect(version.code).toBe(0);
      expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    });
  });

  it('keeps the code V8 compiled in a cache of its own in the temporary folder, and starts from it the next time', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'urls.txt'), server.url('/c/1.bin'));
      const env = { TMPDIR: dir };
      const first = await spawnCli(['-q', '-l', 'one.jsonl', '-d', 'one', 'urls.txt'], { cwd: dir, env }).exited;
      expect(first.code).toBe(0);
      const cacheDir = join(dir, `dl-code-cache-${process.getuid!()}`);
      const [saved, ...others] = await readdir(cacheDir);
      expect(others).toEqual([]);
      const written = await stat(join(cacheDir, saved!));
      expect(written.size).toBeGreaterThan(100_000);
      // The second run used the cache (one it could not use, it would have written anew), and works.
      const second = await spawnCli(['-q', '-l', 'two.jsonl', '-d', 'two', 'urls.txt'], { cwd: dir, env }).exited;
      expect(second.code).toBe(0);
      expect(await readFile(join(dir, 'two', '1.bin'))).toEqual(contentFor('/c/1.bin'));
      expect(await readdir(cacheDir)).toEqual([saved]);
      expect((await stat(join(cacheDir, saved!))).mtimeMs).toBe(written.mtimeMs);
    });
  });

  it('writes a code cache the next run can use after a run longer than the first second, when V8 began optimising', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'slow.txt'), slow.url('/c/slow.bin'));
      await writeFile(join(dir, 'quick.txt'), server.url('/c/quick.bin'));
      const env = { TMPDIR: dir };
      const long = await spawnCli(['-q', '-l', 'one.jsonl', '-d', 'one', 'slow.txt'], { cwd: dir, env }).exited;
      expect(long.code).toBe(0);
      const cacheDir = join(dir, `dl-code-cache-${process.getuid!()}`);
      const [saved] = await readdir(cacheDir);
      const written = await stat(join(cacheDir, saved!));
      // Saved under other flags than the next run reads it under, the cache would be rejected
      // and written anew.
      const quick = await spawnCli(['-q', '-l', 'two.jsonl', '-d', 'two', 'quick.txt'], { cwd: dir, env }).exited;
      expect(quick.code).toBe(0);
      expect(await readdir(cacheDir)).toEqual([saved]);
      expect((await stat(join(cacheDir, saved!))).mtimeMs).toBe(written.mtimeMs);
    });
  });

  it('loads neither node:module nor perf_hooks at start-up, nor node:net when the native fetcher takes every file', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'urls.txt'), [server.url('/m/1.bin'), server.url('/m/2.bin')].join('\n'));
      // Node's own record of the modules it loaded, written as the process exits.
      const preload = join(dir, 'loaded.cjs');
      const loaded = join(dir, 'loaded.txt');
      await writeFile(preload, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(loaded)}, process.moduleLoadList.join('\\n')));`);
      const result = await spawnCli(['-q', '-l', 'run.jsonl', '-d', 'out', 'urls.txt'], { cwd: dir, env: { NODE_OPTIONS: `--require ${preload}` } }).exited;
      expect(result.code).toBe(0);
      expect(await readFile(join(dir, 'out', '2.bin'))).toEqual(contentFor('/m/2.bin'));
      const modules = new Set((await readFile(loaded, 'utf8')).split('\n'));
      expect(modules.has('NativeModule fs/promises')).toBe(true); // the record is the run's
      expect(modules.has('NativeModule module')).toBe(false);
      expect(modules.has('NativeModule perf_hooks')).toBe(false);
      expect(modules.has('NativeModule net')).toBe(!fetcherAvailable());
    });
  });
});
