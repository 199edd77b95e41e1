import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRecords, runCli, withTempDir } from '../helpers/cli.js';
import { contentFor, contentHandler, useServers } from '../helpers/server.js';

describe('2000 URLs over 4 ports', () => {
  const servers = useServers(4, contentHandler());

  it('downloads every file byte-identical, reports 2000 done, and a second run requests nothing', async () => {
    await withTempDir(async (dir) => {
      const urls = Array.from({ length: 2000 }, (_, i) => servers[i % 4]!.url(`/set/${i}/file-${i}.bin`));
      await writeFile(join(dir, 'urls.txt'), `${urls.join('\n')}\n`);
      const joblog = join(dir, 'run.jsonl');
      const out = join(dir, 'out');

      const first = await runCli(['--workers', '8', '--joblog', joblog, '-d', out, 'urls.txt'], dir);
      expect(first.stderr).not.toMatch(/failed:/);
      expect(first.code).toBe(0);

      const files = (await readdir(out)).filter((name) => name.endsWith('.bin'));
      expect(files).toHaveLength(2000);
      for (let i = 0; i < 2000; i++) {
        const body = await readFile(join(out, `file-${i}.bin`));
        expect(body.equals(contentFor(`/set/${i}/file-${i}.bin`)), `file-${i}.bin`).toBe(true);
      }
      expect((await readdir(out)).some((name) => name.endsWith('.part'))).toBe(false);

      const status = await runCli(['--joblog', joblog, '--status', '--json'], dir);
      expect(status.code).toBe(0);
      const report = JSON.parse(status.stdout) as Record<string, unknown>;
      expect(report).toMatchObject({ jobs: 2000, done: 2000, failed: 0, pending: 0, resolved: true });
      const expectedBytes = urls.reduce((sum, url) => sum + contentFor(new URL(url).pathname).length, 0);
      expect(report.bytes).toBe(expectedBytes);

      // The joblog: seq dense from 1, one job record per URL, done only for jobs that exist.
      const records = await readRecords(joblog);
      const jobs = records.filter((r) => r.t === 'job');
      expect(jobs.map((r) => r.seq)).toEqual(Array.from({ length: 2000 }, (_, i) => i + 1));

      const requestsBefore = servers.reduce((n, s) => n + s.requests.length, 0);
      expect(requestsBefore).toBe(2000);
      const second = await runCli(['--workers', '8', '--joblog', joblog, '-d', out, 'urls.txt'], dir);
      expect(second.code).toBe(0);
      expect(servers.reduce((n, s) => n + s.requests.length, 0)).toBe(requestsBefore);
      const after = await readRecords(joblog);
      expect(after.filter((r) => r.t === 'job')).toHaveLength(2000);
    });
  });
});
