import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, runCli, spawnCli, waitFor, withTempDir } from '../helpers/cli.js';
import { expectedBody, hostileHandler } from '../helpers/hostile-server.js';
import { useServer } from '../helpers/server.js';

const ESC = '\u001b';

/** Runs dl under a pseudo-terminal (util-linux `script`), as a person at a terminal would. */
function underTerminal(args: string[], cwd: string) {
  const command = [process.execPath, BIN, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  const child = spawn('script', ['-qefc', command, '/dev/null'], { cwd, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, COLUMNS: '100', LINES: '30' } });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

describe('what a person sees', () => {
  const server = useServer(hostileHandler());

  async function urls(dir: string, paths: string[]): Promise<string> {
    await writeFile(join(dir, 'urls.txt'), paths.map((p) => server.url(p)).join('\n'));
    return 'urls.txt';
  }

  it('on a terminal: an overall line that updates, rows of downloads, the cursor restored', async () => {
    await withTempDir(async (dir) => {
      const paths = Array.from({ length: 40 }, (_, i) => `/slow/15/tty-${i}.bin`);
      const term = underTerminal(['--workers', '4', '-l', 'run.jsonl', '-d', 'out', await urls(dir, paths)], dir);
      expect(await term.exited).toBe(0);
      const out = term.output();
      const text = out.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');
      const counts = [...text.matchAll(/(\d+)\/(\d+)\+? files/g)].map((m) => Number(m[1]));
      expect(new Set(counts).size, 'the overall line shows several different counts').toBeGreaterThan(2);
      expect(counts.at(-1)).toBe(40);
      expect(text).toMatch(/█+░*\s+\d+%\s+tty-\d+\.bin/); // a download row
      expect(out).toContain(`${ESC}[?25l`); // cursor hidden while drawing
      expect(out.lastIndexOf(`${ESC}[?25h`)).toBeGreaterThan(out.lastIndexOf(`${ESC}[?25l`));
      expect(text).toMatch(/dl: 40 done, 0 failed/);
    });
  });

  it('on a terminal too, credentials in URLs are redacted', async () => {
    await withTempDir(async (dir) => {
      const secret = 'pa55-w0rd';
      await writeFile(join(dir, 'urls.txt'), ['/slow/15/tty-secret.bin', '/gone/404/tty-missing.bin'].map((p) => server.url(p).replace('http://', `http://alice:${secret}@`)).join('\n'));
      const term = underTerminal(['-l', 'run.jsonl', '-d', 'out', 'urls.txt'], dir);
      expect(await term.exited).toBe(1);
      const text = term.output().replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');
      expect(text).toContain(`failed: http://***:***@127.0.0.1:${server.port}/gone/404/tty-missing.bin`);
      expect(text).not.toContain(secret);
    });
  });

  it('on a terminal, Ctrl+C restores the cursor and exits with 130', async () => {
    await withTempDir(async (dir) => {
      const paths = Array.from({ length: 20 }, (_, i) => `/slow/200/int-${i}.bin`);
      const term = underTerminal(['-l', 'run.jsonl', '-d', 'out', await urls(dir, paths)], dir);
      await waitFor(() => /\d+\/\d+\+? files/.test(term.output()), 30_000, 'the progress display');
      term.child.stdin.write('\u0003');
      expect(await term.exited).toBe(130);
      const out = term.output();
      expect(out.lastIndexOf(`${ESC}[?25h`)).toBeGreaterThan(out.lastIndexOf(`${ESC}[?25l`));
      expect(out).toContain('interrupted; run the same command again');
      expect(out).not.toMatch(/\n\s+at /);
    });
  });

  it('piped: no escape codes at all, failures one line each, and a summary', async () => {
    await withTempDir(async (dir) => {
      const file = await urls(dir, ['/clean/a.bin', '/gone/404/missing.bin', '/slow/5/b.bin', 'bad line'.replace(/^/, '/clean/')]);
      await writeFile(join(dir, file), `${(await readFile(join(dir, file), 'utf8'))}\nnot a url\n`);
      const result = await runCli(['-l', 'run.jsonl', '-d', 'out', '--retries', '0', file], dir);
      expect(result.code).toBe(1);
      expect(result.stderr).not.toContain(ESC);
      expect(result.stderr).toContain(`failed: ${server.url('/gone/404/missing.bin')}: HTTP 404 Not Found [HTTP_404]`);
      expect(result.stderr).toContain('urls.txt:5: not a URL: "not a url"');
      expect(result.stderr).toMatch(/^dl: 3 done, 1 failed, 0 skipped \(finished before\), 1 input line\(s\) rejected; .* in .* \(.*\/s\)$/m);
      expect(result.stderr).toMatch(/^dl: exit code 1: 1 job\(s\) failed .*; 1 input line\(s\) were rejected$/m);
    });
  });

  it('--quiet prints nothing on a fully successful run, and only the problem otherwise', async () => {
    await withTempDir(async (dir) => {
      const ok = await runCli(['-q', '-l', 'run.jsonl', '-d', 'out', await urls(dir, ['/clean/q1.bin', '/clean/q2.bin'])], dir);
      expect(ok.code).toBe(0);
      expect(ok.stdout).toBe('');
      expect(ok.stderr).toBe('');
      const bad = await runCli(['-q', '-l', 'run2.jsonl', '-d', 'out', await urls(dir, ['/clean/q3.bin', '/gone/410/q4.bin'])], dir);
      expect(bad.code).toBe(1);
      expect(bad.stderr.trim().split('\n')).toEqual([`failed: ${server.url('/gone/410/q4.bin')}: HTTP 410 Gone [HTTP_410]`]);
    });
  });

  it('--json prints one parseable event per line with seq and URL, ending in the summary', async () => {
    await withTempDir(async (dir) => {
      const paths = ['/clean/j1.bin', '/status/503/1/j2.bin', '/gone/404/j3.bin'];
      const result = await runCli(['--json', '--retry-wait', '0.01', '-l', 'run.jsonl', '-d', 'out', await urls(dir, paths)], dir);
      expect(result.code).toBe(1);
      const events = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
      for (const event of events.filter((e) => e.type !== 'summary')) {
        expect(typeof event.seq).toBe('number');
        expect(String(event.url)).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
      }
      const types = events.map((e) => e.type);
      expect(types.filter((t) => t === 'done')).toHaveLength(2);
      expect(types).toContain('retry');
      expect(events.find((e) => e.type === 'fail')).toMatchObject({ seq: 3, code: 'HTTP_404', url: server.url('/gone/404/j3.bin') });
      expect(events.at(-1)).toMatchObject({ type: 'summary', summary: { done: 2, failed: 1 } });
      expect(result.stderr).not.toContain(ESC);
    });
  });
});

describe('status reports', () => {
  const server = useServer(hostileHandler());

  it('groups failures by reason with example URLs; --failed lists them for piping back; --retry-failed retries', async () => {
    await withTempDir(async (dir) => {
      const paths = ['/clean/s1.bin', '/gone/404/s2.bin', '/gone/404/s3.bin', '/gone/410/s4.bin', '/status/500/1/s5.bin'];
      await writeFile(join(dir, 'urls.txt'), paths.map((p) => server.url(p)).join('\n'));
      const first = await runCli(['-l', 'run.jsonl', '-d', 'out', '--retries', '0', 'urls.txt'], dir);
      expect(first.code).toBe(1);

      const text = await runCli(['-l', 'run.jsonl', '--status'], dir);
      expect(text.code).toBe(0);
      expect(text.stdout).toMatch(/^failed\s+4$/m);
      expect(text.stdout).toMatch(/failures by reason:\n\s+2\s+HTTP_404: HTTP 404 Not Found\n\s+http:\/\/.*\/gone\/404\/s2\.bin\n\s+http:\/\/.*\/gone\/404\/s3\.bin/);
      expect(text.stdout).toMatch(/1\s+HTTP_410: HTTP 410 Gone/);
      expect(text.stdout).toMatch(/1\s+HTTP_500: HTTP 500 Internal Server Error/);

      const json = JSON.parse((await runCli(['-l', 'run.jsonl', '--status', '--json'], dir)).stdout) as Record<string, unknown>;
      expect(json).toMatchObject({ jobs: 5, done: 1, failed: 4, pending: 0, running: 0, resolved: true });
      expect(json.failures).toEqual(expect.arrayContaining([expect.objectContaining({ code: 'HTTP_404', count: 2 })]));

      const failed = await runCli(['-l', 'run.jsonl', '--status', '--failed'], dir);
      expect(failed.stdout.trim().split('\n')).toEqual(paths.slice(1).map((p) => server.url(p)));

      // The failed URLs piped back into dl with a fresh joblog: the 500 now succeeds.
      const again = spawnCli(['-l', 'again.jsonl', '-d', 'out2', '--retries', '0', '-'], { cwd: dir, stdin: 'pipe' });
      again.child.stdin!.end(failed.stdout);
      expect((await again.exited).code).toBe(1);
      expect((await readFile(join(dir, 'out2', 's5.bin'))).equals(expectedBody('/status/500/1/s5.bin'))).toBe(true);

      // --retry-failed on the first joblog retries the final failures (the 404s fail again).
      const before = server.requests.length;
      const retried = await runCli(['-l', 'run.jsonl', '-d', 'out', '--retries', '0', '--retry-failed', 'urls.txt'], dir);
      expect(retried.code).toBe(1);
      expect(server.requests.slice(before).sort()).toEqual(paths.slice(1).sort());
      expect(JSON.parse((await runCli(['-l', 'run.jsonl', '--status', '--json'], dir)).stdout)).toMatchObject({ done: 2, failed: 3 });
    });
  });

  it('every option in --help shows its default where it has one, and is documented in docs/usage.md', async () => {
    const help = (await runCli(['--help'], process.cwd())).stdout;
    const usage = await readFile(join(import.meta.dirname, '../../docs/usage.md'), 'utf8');
    const flags = [...help.matchAll(/^\s+(?:-\w, )?(--[a-z-]+)/gm)].map((m) => m[1]!);
    expect(flags.length).toBeGreaterThan(20);
    for (const flag of flags) expect(usage, `${flag} in docs/usage.md`).toMatch(new RegExp(`\`(-\\w, )?${flag}(?![a-z-])`));
    for (const flag of ['--workers', '--per-host', '--per-site', '--retries', '--timeout', '--progress', '--destdir']) {
      const entry = help.slice(help.indexOf(flag)).split(/\n\s+-/)[0]!;
      expect(entry, flag).toMatch(/default:\s/);
    }
  });
});
