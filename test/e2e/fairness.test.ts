import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRecords, spawnCli, waitFor, withTempDir } from '../helpers/cli.js';
import { hostileHandler } from '../helpers/hostile-server.js';
import { contentHandler, useServer, useServers, type TestServer } from '../helpers/server.js';

describe('a slow host does not hold up the others', () => {
  const slow = useServer(contentHandler({ delayMs: 1000 }));
  const fast = useServers(3, contentHandler());

  it('finishes 300 fast-host files while the slow host has finished only a few', async () => {
    await withTempDir(async (dir) => {
      const slowUrls = Array.from({ length: 30 }, (_, i) => slow.url(`/slow-${i}.bin`));
      const fastUrls = Array.from({ length: 300 }, (_, i) => fast[i % 3]!.url(`/fast-${i}.bin`));
      await writeFile(join(dir, 'urls.txt'), [...slowUrls, ...fastUrls].join('\n'));
      const joblog = join(dir, 'run.jsonl');
      const cli = spawnCli(['--per-host', '2', '--joblog', joblog, '-d', 'out', 'urls.txt'], { cwd: dir });

      // Wait until every fast file is done, then stop the run: the slow host alone needs 15 s.
      const outUrlOf = (records: Awaited<ReturnType<typeof readRecords>>) =>
        new Map(records.filter((r) => r.t === 'job').map((r) => [r.seq, String(r.url)]));
      const records = await waitFor(async () => {
        const all = await readRecords(joblog);
        const urls = outUrlOf(all);
        const fastDone = all.filter((r) => r.t === 'done' && urls.get(r.seq)?.includes('/fast-')).length;
        return fastDone === 300 ? all : undefined;
      }, 60_000, '300 fast files done');
      cli.child.kill('SIGINT');
      const result = await cli.exited;
      expect(result.code).toBe(130);

      // Order of completion as the joblog recorded it.
      const urls = outUrlOf(records);
      const order = records.filter((r) => r.t === 'done').map((r) => (urls.get(r.seq)!.includes('/slow-') ? 'slow' : 'fast'));
      const lastFast = order.lastIndexOf('fast');
      const slowBeforeLastFast = order.slice(0, lastFast).filter((kind) => kind === 'slow').length;
      // Two slow jobs at a time, one second each: a fair engine finishes at most a few of them
      // before the fast hosts are through; a pool filled by the slow host first would finish ~all.
      expect(slowBeforeLastFast).toBeLessThanOrEqual(6);
      // The slow host never had more than 2 requests in flight.
      expect(slow.requests.length).toBeLessThanOrEqual(slowBeforeLastFast + 4);
    });
  });

  /**
   * Runs dl over `held` URLs listed first and 50 of `fastHost` after them, and interrupts it once
   * the fast host's files are done (within 60 s, where the held ones take minutes).
   */
  async function fastFilesDoneAfter(held: string[], fastHost: TestServer, perHost: number): Promise<void> {
    await withTempDir(async (dir) => {
      const fastUrls = Array.from({ length: 50 }, (_, i) => fastHost.url(`/fast-${i}.bin`));
      await writeFile(join(dir, 'urls.txt'), [...held, ...fastUrls].join('\n'));
      const joblog = join(dir, 'run.jsonl');
      const cli = spawnCli(['--per-host', String(perHost), '--workers', '8', '--joblog', joblog, '-d', 'out', 'urls.txt'], { cwd: dir });
      await waitFor(async () => {
        const records = await readRecords(joblog);
        return records.filter((r) => r.t === 'done').length >= 50 || undefined;
      }, 60_000, "the fast host's 50 files done");
      cli.child.kill('SIGINT');
      expect((await cli.exited).code).toBe(130);
      expect((await readRecords(joblog)).filter((r) => r.t === 'done')).toHaveLength(50);
      expect(fastHost.requests).toHaveLength(50);
    });
  }

  describe('several slow hosts held to one connection each', () => {
    const slowHosts = useServers(5, contentHandler({ delayMs: 30_000 }));
    const fastHost = useServer(contentHandler());

    it('never fill the window: files of a host listed after theirs are done at once', async () => {
      // 100 slow URLs first: with 16 live jobs a host (the old backlog), four slow hosts took
      // the whole 64-job window and the fast host's jobs could not even start for minutes.
      await fastFilesDoneAfter(slowHosts.flatMap((server) => Array.from({ length: 20 }, (_, i) => server.url(`/slow-${i}.bin`))), fastHost, 1);
      // Each slow host had its one request in flight, never more.
      for (const server of slowHosts) expect(server.requests).toHaveLength(1);
    });
  });

  describe('hosts that ask for a long pause', () => {
    // A handler each: the hostile handler counts requests by path, and each host must pause.
    const pausing = [1, 2, 3, 4].map(() => useServer(hostileHandler()));
    const fastHost = useServer(contentHandler());

    it('do not keep a host listed after theirs from starting while they wait', async () => {
      // 16 jobs a host (4 per slot of --per-host 4), all of them waiting out a 120 s
      // Retry-After: four such hosts were the whole 64-job window, and the fast host waited.
      await fastFilesDoneAfter(pausing.flatMap((server) => Array.from({ length: 20 }, (_, i) => server.url(`/retry-after/503/120/1/p${i}.bin`))), fastHost, 4);
      // Each pausing host was asked at most once a slot, by the jobs under way when its first
      // 503 came: its Retry-After held back every other job of it.
      for (const server of pausing) expect(server.requests.length).toBeLessThanOrEqual(4);
    });
  });
});
