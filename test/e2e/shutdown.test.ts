import { createWriteStream } from 'node:fs';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { readRecords, runCli, spawnCli, waitFor, withTempDir, type SpawnedCli } from '../helpers/cli.js';
import { nativePump } from '../../src/http/h1/native-pump.js';
import { BODY, MiB, useBigBodyServers } from '../helpers/big-body-server.js';
import { expectedBody, hostileHandler } from '../helpers/hostile-server.js';
import { useServers } from '../helpers/server.js';

/** A stack trace line, as Node prints them. */
const STACK = /\n\s+at /;

/**
 * `count` paths `/slow/150/<prefix>-N.bin` whose bodies are at least 32 KiB: eight or more
 * 4 KiB pieces 150 ms apart, so every transfer is still under way a second after it began.
 */
function bigSlowPaths(prefix: string, count: number): string[] {
  const paths: string[] = [];
  for (let i = 0; paths.length < count; i++) {
    const path = `/slow/150/${prefix}-${i}.bin`;
    if (expectedBody(path).length >= 32 * 1024) paths.push(path);
  }
  return paths;
}

async function partsWithBytes(out: string): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  for (const name of await readdir(out).catch(() => [] as string[])) {
    if (!name.endsWith('.part')) continue;
    const size = await stat(join(out, name)).then((s) => s.size, () => 0);
    if (size > 0) sizes.set(name.slice(0, -'.part'.length), size);
  }
  return sizes;
}

/** Sends `signal` and measures, in ms, how long the process takes to exit after it. */
async function stopWith(cli: SpawnedCli, signal: NodeJS.Signals) {
  const sent = performance.now();
  cli.child.kill(signal);
  const result = await cli.exited;
  return { result, ms: performance.now() - sent };
}

describe('stopping a run with a signal', () => {
  const servers = useServers(2, hostileHandler());

  async function interruptAndResume(signal: 'SIGINT' | 'SIGTERM', code: number, prefix: string): Promise<void> {
    await withTempDir(async (dir) => {
      const paths = bigSlowPaths(prefix, 8);
      const pathOf = new Map(paths.map((p) => [p.slice(p.lastIndexOf('/') + 1), p]));
      await writeFile(join(dir, 'urls.txt'), `${paths.map((p, i) => servers[i % 2]!.url(p)).join('\n')}\n`);
      const joblog = join(dir, 'run.jsonl');
      const out = join(dir, 'out');
      const args = ['--joblog', joblog, '-d', 'out', 'urls.txt'];

      const cli = spawnCli(args, { cwd: dir });
      // Transfers are under way: some .part already holds bytes.
      await waitFor(async () => (await partsWithBytes(out)).size > 0, 30_000, 'a .part file with bytes');
      const { result, ms } = await stopWith(cli, signal);
      expect(result.code, result.stderr).toBe(code);
      expect(result.signal).toBeNull();
      expect(ms).toBeLessThan(2000);
      expect(result.stderr).not.toMatch(STACK);

      // Nothing incomplete under a final name; the joblog ends on a whole line.
      const names = await readdir(out);
      for (const name of names.filter((n) => !n.endsWith('.part'))) {
        expect((await readFile(join(out, name))).equals(expectedBody(pathOf.get(name)!)), name).toBe(true);
      }
      const log = await readFile(joblog);
      expect(log.length).toBeGreaterThan(0);
      expect(log[log.length - 1]).toBe(0x0a);
      const status = JSON.parse((await runCli(['--joblog', joblog, '--status', '--json'], dir)).stdout) as { pending: number };
      expect(status.pending).toBeGreaterThan(0);

      // The interrupted transfers left their bytes; the validator they were written with is logged.
      const parts = await partsWithBytes(out);
      expect(parts.size).toBeGreaterThan(0);
      const records = await readRecords(joblog);
      const seqOf = new Map(records.filter((r) => r.t === 'job').map((r) => [String(r.out), r.seq!]));
      const validatorOf = (name: string): string | undefined => {
        const start = records.filter((r) => r.t === 'start' && r.seq === seqOf.get(name)).pop();
        return (start?.etag ?? start?.lastModified) as string | undefined;
      };

      const mark = servers.map((s) => s.log.length);
      const again = await runCli(args, dir);
      expect(again.code, again.stderr).toBe(0);
      const resumedRequests = servers.flatMap((s, i) => s.log.slice(mark[i]));
      for (const [name, size] of parts) {
        const path = pathOf.get(name)!;
        const requests = resumedRequests.filter((r) => r.path === path);
        // Exactly one request, continuing where the .part ended, for the version it holds.
        expect(requests, `${name} (.part had ${size} bytes)`).toEqual([
          expect.objectContaining({ range: `bytes=${size}-`, ifRange: validatorOf(name) }),
        ]);
        expect(validatorOf(name)).toBeTruthy();
      }
      for (const path of paths) {
        const name = path.slice(path.lastIndexOf('/') + 1);
        expect((await readFile(join(out, name))).equals(expectedBody(path)), name).toBe(true);
      }
      expect((await readdir(out)).filter((n) => n.endsWith('.part'))).toEqual([]);
    });
  }

  it('SIGINT mid-transfer: exit 130 within 2 s, no stack trace, nothing incomplete; the same command resumes with Range', async () => {
    await interruptAndResume('SIGINT', 130, 'int');
  });

  it('SIGTERM mid-transfer: exit 143 within 2 s, the same way', async () => {
    await interruptAndResume('SIGTERM', 143, 'term');
  });

  describe.skipIf(!nativePump())('with a big body in the native pump', () => {
    const { breakingServer } = useBigBodyServers();

    it('SIGINT while the pump moves a body: exit 130 within 2 s, its .part kept whole, and the same command finishes it', async () => {
      const STALL_AT = 6 * MiB;
      const server = await breakingServer(STALL_AT); // then silence: the pump waits on the socket
      await withTempDir(async (dir) => {
        await writeFile(join(dir, 'urls.txt'), `${server.url('/big.bin')}\n`);
        const args = ['--joblog', 'run.jsonl', '-d', 'out', 'urls.txt'];
        const part = join(dir, 'out', 'big.bin.part');
        const cli = spawnCli(args, { cwd: dir });
        await waitFor(async () => (await stat(part).catch(() => undefined))?.size === STALL_AT, 30_000, 'the .part to hold what was sent');
        const { result, ms } = await stopWith(cli, 'SIGINT');
        expect(result.code, result.stderr).toBe(130);
        expect(ms).toBeLessThan(2000);
        expect(result.stderr).not.toMatch(STACK);
        expect(await readdir(join(dir, 'out'))).toEqual(['big.bin.part']);
        expect((await stat(part)).size).toBe(STALL_AT);

        const again = await runCli(args, dir);
        expect(again.code, again.stderr).toBe(0);
        expect((await readFile(join(dir, 'out', 'big.bin'))).equals(BODY)).toBe(true);
        expect(server.ranges).toEqual([undefined, STALL_AT]);
      });
    });
  });

  /**
   * A run winds down in milliseconds once transfers are cut, so to see whether a second Ctrl+C
   * cuts the wind-down short, the wind-down must be slow: a run reading a joblog of a million
   * finished jobs at start-up does not look at the signal until it has read all of it (seconds),
   * so only the 1.5 s watchdog or a second Ctrl+C ends it early.
   */
  it('a second SIGINT while the first is still winding down exits at once with 130', async () => {
    await withTempDir(async (dir) => {
      const joblog = join(dir, 'big.jsonl');
      // Large enough that reading it outlasts the 1.5 s watchdog, however fast the reader gets.
      const jobs = 2_000_000;
      const file = createWriteStream(joblog);
      for (let from = 1; from <= jobs; from += 50_000) {
        const lines: string[] = [];
        for (let seq = from; seq < from + 50_000 && seq <= jobs; seq++) {
          lines.push(`{"t":"job","seq":${seq},"url":"${servers[0]!.url(`/clean/${seq}`)}","out":"${seq}","src":"urls.txt:${seq}"}`);
          lines.push(`{"t":"done","seq":${seq},"ts":"2026-01-01T00:00:00.000Z","bytes":1,"path":"${seq}","status":200}`);
        }
        if (!file.write(`${lines.join('\n')}\n`)) await once(file, 'drain');
      }
      file.end();
      await once(file, 'finish');
      await writeFile(join(dir, 'urls.txt'), `${servers[0]!.url('/clean/1')}\n`);
      const args = ['--joblog', joblog, '-d', 'out', 'urls.txt'];
      const lockTaken = (cli: SpawnedCli) => async () => {
        const lock = await readFile(`${joblog}.lock`, 'utf8').catch(() => '');
        return lock.includes(`"pid":${cli.child.pid}`);
      };

      // Control: one SIGINT while the joblog is being read; only the watchdog ends the run early.
      const single = spawnCli(args, { cwd: dir });
      await waitFor(lockTaken(single), 30_000, 'the first run to take the lock');
      const control = await stopWith(single, 'SIGINT');
      expect(control.result.code).toBe(130);
      expect(control.result.stderr).not.toMatch(STACK);
      expect(control.ms).toBeLessThan(2000);
      // Precondition of the next part: winding down takes long enough to tell "at once" from it.
      expect(control.ms, 'a single SIGINT ended the run too fast for this test to mean anything').toBeGreaterThan(1000);

      const cli = spawnCli(args, { cwd: dir });
      await waitFor(lockTaken(cli), 30_000, 'the second run to take the lock');
      cli.child.kill('SIGINT');
      // "Shortly after": long enough for the first one to have been handled.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(cli.child.exitCode, 'the run ended before the second SIGINT').toBeNull();
      const second = await stopWith(cli, 'SIGINT');
      expect(second.result.code).toBe(130);
      expect(second.result.signal).toBeNull();
      expect(second.result.stderr).not.toMatch(STACK);
      // At once: well before the 1.5 s watchdog of the first SIGINT would have fired.
      expect(second.ms).toBeLessThan(700);
    });
  });
});
