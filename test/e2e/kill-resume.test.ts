import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRecords, runCli, spawnCli, waitFor, withTempDir } from '../helpers/cli.js';
import { contentFor, useServers, type Handler } from '../helpers/server.js';

/** Sends each body in four pieces over ~40 ms, so that a kill lands mid-transfer. */
const trickle: Handler = async (req, res) => {
  const body = contentFor(new URL(req.url ?? '/', 'http://x').pathname);
  res.writeHead(200, { 'content-length': body.length });
  const piece = Math.ceil(body.length / 4);
  for (let i = 0; i < body.length; i += piece) {
    if (res.destroyed) return;
    res.write(body.subarray(i, i + piece));
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  res.end();
};

describe('kill -9 in the middle of a run', () => {
  const servers = useServers(2, trickle);

  it('the same command afterwards finishes the rest and never refetches a done job', async () => {
    await withTempDir(async (dir) => {
      const urls = Array.from({ length: 300 }, (_, i) => servers[i % 2]!.url(`/k/${i}.bin`));
      await writeFile(join(dir, 'urls.txt'), urls.join('\n'));
      const joblog = join(dir, 'run.jsonl');
      const args = ['--joblog', joblog, '-d', 'out', 'urls.txt'];

      const cli = spawnCli(args, { cwd: dir });
      await waitFor(async () => (await readRecords(joblog)).filter((r) => r.t === 'done').length >= 60, 60_000, '60 done');
      cli.child.kill('SIGKILL');
      const killed = await cli.exited;
      expect(killed.signal).toBe('SIGKILL');

      const before = await readRecords(joblog);
      const urlOf = new Map(before.filter((r) => r.t === 'job').map((r) => [r.seq, String(r.url)]));
      const donePaths = new Set(before.filter((r) => r.t === 'done').map((r) => new URL(urlOf.get(r.seq)!).pathname));
      expect(donePaths.size).toBeGreaterThanOrEqual(60);
      expect(donePaths.size).toBeLessThan(300);
      // The killed run's lock is still there, but no process holds it: what it had under way
      // is interrupted, not running.
      const started = new Set(before.filter((r) => r.t === 'start').map((r) => r.seq));
      for (const r of before) if (r.t === 'done' || r.t === 'fail') started.delete(r.seq);
      const killedStatus = JSON.parse((await runCli(['--joblog', joblog, '--status', '--json'], dir)).stdout) as Record<string, unknown>;
      expect(killedStatus).toMatchObject({ heldBy: null, running: started.size });
      const killedText = (await runCli(['--joblog', joblog, '--status'], dir)).stdout;
      expect(killedText).toMatch(started.size > 0 ? new RegExp(`^interrupted\\s+${started.size} \\(no dl holds the joblog; the same command resumes them\\)$`, 'm') : /^running\s+0 \(no dl holds the joblog\)$/m);
      const requestsBefore = servers.map((s) => s.requests.length);

      const again = await runCli(args, dir);
      expect(again.code).toBe(0);
      const refetched = servers.flatMap((s, i) => s.requests.slice(requestsBefore[i])).filter((path) => donePaths.has(path));
      expect(refetched).toEqual([]);

      for (let i = 0; i < 300; i++) {
        expect((await readFile(join(dir, 'out', `${i}.bin`))).equals(contentFor(`/k/${i}.bin`)), `${i}.bin`).toBe(true);
      }
      expect((await readdir(join(dir, 'out'))).filter((name) => name.endsWith('.part'))).toEqual([]);
      const status = JSON.parse((await runCli(['--joblog', joblog, '--status', '--json'], dir)).stdout) as Record<string, unknown>;
      expect(status).toMatchObject({ jobs: 300, done: 300, pending: 0, failed: 0 });
    });
  });
});
