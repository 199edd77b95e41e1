import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRecords, runCli, withTempDir } from '../helpers/cli.js';
import { expectedBody, hostileHandler, hostileList, nameOf, wrongFiles, type HostileMix } from '../helpers/hostile-server.js';
import { useServers } from '../helpers/server.js';

/**
 * 300 paths: the ten permanent failures, every transient mode a few times (each URL fails at
 * most 3 times, so the default 5 retries suffice), and clean files for the rest (about half).
 */
const MIX: HostileMix = { total: 300, status: 6, retryAfter: 6, retryAfterTimes: 2, reset: 14, short: 14, stall: 6, change: 10, chunked: 14, slow: 38, slowPieceMs: 20, gone404: 5, gone410: 5 };

describe('300 URLs over 4 misbehaving servers, default options', () => {
  const servers = useServers(4, hostileHandler());

  it('recovers every transient failure, fails exactly the ten permanent ones at once, and reports them', async () => {
    await withTempDir(async (dir) => {
      const { recoverable, permanent } = hostileList(MIX);
      expect(recoverable.length + permanent.length).toBe(300);
      expect(recoverable.filter((p) => p.startsWith('/clean/')).length).toBeGreaterThanOrEqual(130);
      // Interleave the kinds so that every server gets every mode, in a shuffled-looking order.
      const all = [...recoverable, ...permanent];
      const order = all.map((path, i) => ({ path, key: (i * 7919) % 301 })).sort((a, b) => a.key - b.key);
      const urlOf = new Map<string, string>();
      const lines = order.map(({ path }, i) => {
        const url = servers[i % 4]!.url(path);
        urlOf.set(path, url);
        return url;
      });
      await writeFile(join(dir, 'urls.txt'), `${lines.join('\n')}\n`);
      const joblog = join(dir, 'run.jsonl');

      const result = await runCli(['--joblog', joblog, '-d', 'out', 'urls.txt'], dir);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(result.code).toBe(1);

      // Every recoverable file is byte for byte the last version the server had.
      const out = join(dir, 'out');
      expect(await wrongFiles(out, recoverable)).toEqual([]);
      // Nothing else under a final name, and no .part of a recovered file (nor of a failed one).
      expect((await readdir(out)).sort()).toEqual(recoverable.map(nameOf).sort());

      // The ten permanent failures are reported with URL and reason; nothing else failed.
      for (const path of permanent) {
        const reason = path.startsWith('/gone/404/') ? 'HTTP 404 Not Found [HTTP_404]' : 'HTTP 410 Gone [HTTP_410]';
        expect(result.stderr).toContain(`failed: ${urlOf.get(path)}: ${reason}`);
      }
      expect(result.stderr.split('\n').filter((line) => line.startsWith('failed: '))).toHaveLength(10);

      // Final at once: one request each, one final fail record at attempt 1, no retries.
      const requests = servers.flatMap((s) => s.requests);
      for (const path of permanent) expect(requests.filter((p) => p === path), path).toHaveLength(1);
      const records = await readRecords(joblog);
      const jobUrl = new Map(records.filter((r) => r.t === 'job').map((r) => [r.seq, String(r.url)]));
      const permanentUrls = new Set(permanent.map((p) => urlOf.get(p)!));
      const permanentFails = records.filter((r) => r.t === 'fail' && permanentUrls.has(jobUrl.get(r.seq)!));
      expect(permanentFails).toHaveLength(10);
      for (const fail of permanentFails) expect(fail).toMatchObject({ attempt: 1, final: true });
      // No recoverable job ever had a final failure.
      expect(records.filter((r) => r.t === 'fail' && r.final === true)).toHaveLength(10);

      // The transient modes really happened and a broken body was resumed with Range + If-Range.
      const log = servers.flatMap((s) => s.log);
      const resumed = log.filter((entry) => {
        if (!/^\/(reset|short)\//.test(entry.path)) return false;
        const match = /^bytes=(\d+)-$/.exec(entry.range ?? '');
        return match !== null && Number(match[1]) > 0 && entry.ifRange !== undefined && entry.ifRange !== '';
      });
      expect(resumed.length).toBeGreaterThan(0);
      // Modes that never break a body are never a failed attempt: a 1.5 s pause mid-body is far
      // under the default 60 s idle timeout, chunked and slow bodies are fine.
      const neverFail = records.filter((r) => r.t === 'fail' && /^\/(clean|chunked|slow|stall)\//.test(new URL(jobUrl.get(r.seq)!).pathname));
      expect(neverFail).toEqual([]);
      // Retry-After: 1 was honoured: the next request for the path came a second or more later.
      for (const path of recoverable.filter((p) => p.startsWith('/retry-after/'))) {
        const times = log.filter((entry) => entry.path === path).map((entry) => entry.at);
        expect(times.length, path).toBeGreaterThanOrEqual(2);
        for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!, path).toBeGreaterThanOrEqual(950);
      }
      // A changed file was not resumed across versions: its final bytes are v2 (checked above),
      // and it was asked for more than once.
      for (const path of recoverable.filter((p) => p.startsWith('/change/'))) {
        expect(requests.filter((p) => p === path).length, path).toBeGreaterThanOrEqual(2);
      }

      const status = JSON.parse((await runCli(['--joblog', joblog, '--status', '--json'], dir)).stdout) as Record<string, unknown>;
      expect(status).toMatchObject({ jobs: 300, done: 290, failed: 10, pending: 0 });
    });
  });
});
