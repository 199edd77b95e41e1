import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRecords, runCli, spawnCli, waitFor, withTempDir, type Record as LogRecord } from '../helpers/cli.js';
import { expectedBody, hostileHandler, hostileList, nameOf, wrongFiles, type HostileMix } from '../helpers/hostile-server.js';
import { useServers } from '../helpers/server.js';

const KILLS = 10;
const SEED = 0x5eed_d1;

/** mulberry32: a small seeded PRNG, so that a failing run can be repeated moment for moment. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * 150 paths mixing every mode; most are slow (4 KiB every 200 ms, ~1 s per file), so that the
 * whole list takes well over ten seconds at 8 downloads at once and every kill lands mid-run.
 */
const MIX: HostileMix = { total: 150, status: 3, retryAfter: 3, retryAfterTimes: 1, reset: 6, short: 6, stall: 4, change: 5, chunked: 6, slow: 90, slowPieceMs: 200, gone404: 3, gone410: 2 };

/** Paths of the jobs the joblog on disk has finished: done, and failed for good. */
function finished(records: LogRecord[]): { done: Map<string, string>; failed: Set<string> } {
  const url = new Map(records.filter((r) => r.t === 'job').map((r) => [r.seq, String(r.url)]));
  const last = new Map<number, LogRecord>();
  for (const r of records) if (r.t === 'done' || r.t === 'fail') last.set(r.seq!, r);
  const done = new Map<string, string>(); // URL path -> file path relative to the destdir
  const failed = new Set<string>();
  for (const [seq, r] of last) {
    const path = new URL(url.get(seq)!).pathname;
    if (r.t === 'done') done.set(path, String(r.path));
    else if (r.final === true) failed.add(path);
  }
  return { done, failed };
}

describe('SIGKILL at ten random moments, restarting the same command each time', () => {
  const servers = useServers(4, hostileHandler());

  it('never fetches a job that was finished in the joblog again, and ends with every file correct', async () => {
    await withTempDir(async (dir) => {
      const random = prng(SEED);
      const { recoverable, permanent } = hostileList(MIX);
      const all = [...recoverable, ...permanent];
      const order = all.map((path, i) => ({ path, key: (i * 7919) % 151 })).sort((a, b) => a.key - b.key);
      // Slow files on two servers, bodies that break on the other two: the hostile server breaks a
      // body through `res.socket`, which a response queued on a keep-alive connection behind a
      // slow response (still in its last 200 ms pause) does not have yet, so it would hang.
      const urls = order.map(({ path }, i) => {
        if (path.startsWith('/slow/')) return servers[i % 2]!.url(path);
        if (/^\/(reset|short|change)\//.test(path)) return servers[2 + (i % 2)]!.url(path);
        return servers[i % 4]!.url(path);
      });
      await writeFile(join(dir, 'urls.txt'), `${urls.join('\n')}\n`);
      const joblog = join(dir, 'run.jsonl');
      const out = join(dir, 'out');
      const args = ['--joblog', joblog, '-d', 'out', 'urls.txt'];

      /** Requests each server had received when the last process was killed. */
      let mark = servers.map(() => 0);
      /** What the joblog on disk said was finished at that kill. */
      let finishedAtKill: ReturnType<typeof finished> = { done: new Map(), failed: new Set() };
      const refetched: string[] = [];
      const checkSegment = (segment: number): void => {
        servers.forEach((server, i) => {
          for (const path of server.requests.slice(mark[i])) {
            if (finishedAtKill.done.has(path)) refetched.push(`run ${segment}: ${path} (done)`);
            if (finishedAtKill.failed.has(path)) refetched.push(`run ${segment}: ${path} (failed for good)`);
          }
        });
        mark = servers.map((s) => s.requests.length);
      };

      const pauses: number[] = [];
      for (let kill = 1; kill <= KILLS; kill++) {
        const cli = spawnCli(args, { cwd: dir });
        // This process holds the joblog (a lock left by the killed one has been taken over).
        await waitFor(
          async () => {
            const lock = await readFile(`${joblog}.lock`, 'utf8').catch(() => '');
            try {
              return (JSON.parse(lock) as { pid?: number }).pid === cli.child.pid;
            } catch {
              return false;
            }
          },
          30_000,
          `run ${kill} to take the joblog lock`,
        );
        // The random moment is the point of the test: let this run get somewhere, then kill it.
        const pause = Math.floor(random() * 1000);
        pauses.push(pause);
        await new Promise((resolve) => setTimeout(resolve, pause));
        expect(cli.child.exitCode, `run ${kill} ended before its kill: ${cli.stderr()}`).toBeNull();
        cli.child.kill('SIGKILL');
        const killed = await cli.exited;
        expect(killed.signal).toBe('SIGKILL');
        checkSegment(kill);

        const records = await readRecords(joblog);
        finishedAtKill = finished(records);
        // A done record never points at a file that is not complete under its final name.
        for (const [path, file] of finishedAtKill.done) {
          const got = await readFile(join(out, file)).catch(() => undefined);
          expect(got?.equals(expectedBody(path)), `after kill ${kill}: ${path} is done but ${file} is not complete`).toBe(true);
        }
      }
      // The kills landed mid-run: work was finished before them and work remained after them.
      expect(finishedAtKill.done.size).toBeGreaterThan(0);
      expect(finishedAtKill.done.size + finishedAtKill.failed.size).toBeLessThan(150);

      const last = await runCli(args, dir);
      checkSegment(KILLS + 1);
      expect(refetched, `kill moments (ms after the lock): ${pauses.join(', ')}`).toEqual([]);
      expect(last.stderr).not.toMatch(/\n\s+at /);
      expect(last.code).toBe(1); // the permanent failures

      expect(await wrongFiles(out, recoverable)).toEqual([]);
      expect((await readdir(out)).sort()).toEqual(recoverable.map(nameOf).sort());

      const status = JSON.parse((await runCli(['--joblog', joblog, '--status', '--json'], dir)).stdout) as {
        jobs: number;
        done: number;
        failed: number;
        pending: number;
      };
      expect(status.jobs).toBe(150);
      expect(status.pending).toBe(0);
      expect(status.done + status.failed).toBe(status.jobs);
      expect(status).toMatchObject({ done: recoverable.length, failed: permanent.length });
    });
  });
});
