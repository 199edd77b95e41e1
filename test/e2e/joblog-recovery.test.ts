import { access, appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRecords, runCli, spawnCli, waitFor, withTempDir } from '../helpers/cli.js';
import { contentHandler, useServer } from '../helpers/server.js';

describe('joblog recovery and locking', () => {
  const server = useServer(contentHandler());
  const slow = useServer(contentHandler({ delayMs: 30_000 }));

  it('repairs a torn last line, says so, and carries on', async () => {
    await withTempDir(async (dir) => {
      const urls = Array.from({ length: 5 }, (_, i) => server.url(`/t/${i}.bin`));
      await writeFile(join(dir, 'urls.txt'), urls.join('\n'));
      const joblog = join(dir, 'run.jsonl');
      expect((await runCli(['--joblog', joblog, '-d', 'out', 'urls.txt'], dir)).code).toBe(0);

      // A process died in the middle of appending a record.
      const torn = '{"t":"job","seq":6,"url":"http://127.0.0.1:1/x","ou';
      await appendFile(joblog, torn);
      urls.push(server.url('/t/5.bin'));
      await writeFile(join(dir, 'urls.txt'), urls.join('\n'));
      const second = await runCli(['--joblog', joblog, '-d', 'out', 'urls.txt'], dir);
      expect(second.code).toBe(0);
      expect(second.stderr).toContain(`torn line (a run died mid-write); dropped ${torn.length} bytes`);

      const text = await readFile(joblog, 'utf8');
      expect(text.endsWith('\n')).toBe(true);
      const records = await readRecords(joblog); // every line parses
      expect(records.filter((r) => r.t === 'job').map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(records.find((r) => r.t === 'job' && r.seq === 6)?.url).toBe(server.url('/t/5.bin'));
      expect(server.requests.filter((p) => p.startsWith('/t/'))).toHaveLength(6);
    });
  });

  it('a second process on a locked joblog gets a clear error and exit code 2', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'urls.txt'), slow.url('/hang.bin'));
      const joblog = join(dir, 'run.jsonl');
      const first = spawnCli(['--joblog', joblog, '-d', 'out', 'urls.txt'], { cwd: dir });
      await waitFor(() => slow.requests.includes('/hang.bin'), 30_000, 'first run to start its request');

      const second = await runCli(['--joblog', joblog, '-d', 'out', 'urls.txt'], dir);
      expect(second.code).toBe(2);
      expect(second.stderr).toContain(`is in use by another dl process (pid ${first.child.pid})`);
      expect(second.stderr).not.toMatch(/\n\s+at /); // no stack trace

      // --status reads a live log without the lock (once the job's record is committed: records
      // are written a few times a second, and the request may start before).
      await waitFor(async () => (await readRecords(joblog)).some((r) => r.t === 'job'), 30_000, 'the job record');
      const status = await runCli(['--joblog', joblog, '--status', '--json'], dir);
      expect(status.code).toBe(0);
      expect(JSON.parse(status.stdout)).toMatchObject({ jobs: 1, done: 0, pending: 1, heldBy: { pid: first.child.pid } });
      const text = await runCli(['--joblog', joblog, '--status'], dir);
      expect(text.stdout).toMatch(new RegExp(`^running\\s+0 \\(dl pid ${first.child.pid} on .+ holds the joblog\\)$`, 'm'));

      first.child.kill('SIGINT');
      expect((await first.exited).code).toBe(130);
      await expect(access(`${joblog}.lock`)).rejects.toThrow();
    });
  });

  it('takes over the lock of a process that died', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'urls.txt'), server.url('/t/after-crash.bin'));
      const joblog = join(dir, 'run.jsonl');
      const crashed = spawnCli(['--joblog', joblog, '-d', 'out', 'urls.txt'], { cwd: dir });
      crashed.child.kill('SIGKILL');
      await crashed.exited;
      // A lock left by a dead pid (as after kill -9 or a reboot).
      const { hostname } = await import('node:os');
      await writeFile(`${joblog}.lock`, JSON.stringify({ pid: crashed.child.pid, host: hostname(), ts: '' }));
      const result = await runCli(['--joblog', joblog, '-d', 'out', 'urls.txt'], dir);
      expect(result.code).toBe(0);
      expect((await readRecords(joblog)).some((r) => r.t === 'done')).toBe(true);
    });
  });
});
