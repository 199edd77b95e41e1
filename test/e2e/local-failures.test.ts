import { execFileSync, spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync, mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, readRecords, runCli, withTempDir, type CliResult } from '../helpers/cli.js';
import { expectedBody, hostileHandler } from '../helpers/hostile-server.js';
import { useServer } from '../helpers/server.js';

const STACK = /\n\s+at /;
const isRoot = process.getuid?.() === 0;

/** Whether this process may mount a tmpfs (root, and a container that allows it). */
function canMountTmpfs(): boolean {
  if (!isRoot) return false;
  const probe = mkdtempSync(join(tmpdir(), 'dl-mount-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    rmdirSync(probe);
  }
}

const mountable = canMountTmpfs();
const NOBODY = 65534;

/** Runs the CLI as another user (only root can). */
function runCliAs(uid: number, gid: number, args: string[], cwd: string): Promise<CliResult> {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd,
    uid,
    gid,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1', HOME: cwd },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

describe('failures on this machine', () => {
  const server = useServer(hostileHandler());

  (mountable ? it : it.skip)(
    `a full disk stops the run cleanly: exit 1, "disk full", the job it hit not done${mountable ? '' : ' (skipped: needs root and permission to mount a tmpfs)'}`,
    async () => {
      await withTempDir(async (dir) => {
        const out = join(dir, 'out');
        await mkdir(out);
        // 40 files of 0.5 to 40 KiB (about 800 KiB) into 256 KiB.
        const paths = Array.from({ length: 40 }, (_, i) => `/clean/full-${i}.bin`);
        const total = paths.reduce((sum, p) => sum + expectedBody(p).length, 0);
        expect(total).toBeGreaterThan(2 * 256 * 1024);
        await writeFile(join(dir, 'urls.txt'), `${paths.map((p) => server.url(p)).join('\n')}\n`);
        const joblog = join(dir, 'run.jsonl'); // outside the full disk
        const args = ['--joblog', joblog, '-d', 'out', 'urls.txt'];

        execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', out]);
        try {
          const result = await runCli(args, dir);
          expect(result.code, result.stderr).toBe(1);
          expect(result.stderr).toMatch(/disk full/i);
          expect(result.stderr).not.toMatch(STACK);

          const log = await readFile(joblog);
          expect(log[log.length - 1]).toBe(0x0a);
          const records = await readRecords(joblog);
          const jobs = records.filter((r) => r.t === 'job');
          expect(jobs).toHaveLength(40);
          const pathOfSeq = new Map(jobs.map((r) => [r.seq!, new URL(String(r.url)).pathname]));
          const doneSeqs = new Set(records.filter((r) => r.t === 'done').map((r) => r.seq!));
          // The run stopped: some jobs were done, some never were; none failed for good.
          expect(doneSeqs.size).toBeGreaterThan(0);
          expect(doneSeqs.size).toBeLessThan(40);
          expect(records.filter((r) => r.t === 'fail' && r.final === true)).toEqual([]);

          // A file under its final name exactly for the done jobs, and complete; the job that hit
          // ENOSPC (it started, it has no done record) has no file under its final name.
          const finalNames = (await readdir(out)).filter((name) => !name.endsWith('.part')).sort();
          const doneNames = [...doneSeqs].map((seq) => String(jobs.find((j) => j.seq === seq)!.out)).sort();
          expect(finalNames).toEqual(doneNames);
          for (const seq of doneSeqs) {
            const name = String(jobs.find((j) => j.seq === seq)!.out);
            expect((await readFile(join(out, name))).equals(expectedBody(pathOfSeq.get(seq)!)), name).toBe(true);
          }
          const startedNotDone = [...new Set(records.filter((r) => r.t === 'start').map((r) => r.seq!))].filter((seq) => !doneSeqs.has(seq));
          expect(startedNotDone.length).toBeGreaterThan(0);
          // The message names the file it could not write: that job is not done and has no file.
          const fullLine = result.stderr.split('\n').find((line) => /disk full/i.test(line))!;
          const hit = jobs.filter((j) => new RegExp(`(^|[\\s/])${String(j.out).replace(/[.]/g, '\\.')}($|[\\s;,:])`).test(fullLine));
          expect(hit.map((j) => j.out), fullLine).toHaveLength(1);
          expect(doneSeqs.has(hit[0]!.seq!)).toBe(false);
          expect(finalNames).not.toContain(String(hit[0]!.out));

          const status = JSON.parse((await runCli(['--joblog', joblog, '--status', '--json'], dir)).stdout) as Record<string, number>;
          expect(status).toMatchObject({ jobs: 40, done: doneSeqs.size, failed: 0, pending: 40 - doneSeqs.size });

          // With room again, the same command finishes the run.
          execFileSync('mount', ['-o', 'remount,size=8m', out]);
          const again = await runCli(args, dir);
          expect(again.code, again.stderr).toBe(0);
          for (const path of paths) {
            const name = path.slice(path.lastIndexOf('/') + 1);
            expect((await readFile(join(out, name))).equals(expectedBody(path)), name).toBe(true);
          }
          expect((await readdir(out)).filter((name) => name.endsWith('.part'))).toEqual([]);
        } finally {
          execFileSync('umount', [out]);
        }
      });
    },
  );

  (isRoot ? it : it.skip)(
    `a destination folder that cannot be written: exit 2 naming it, before any request${isRoot ? '' : ' (skipped: needs root to run dl as nobody)'}`,
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'dl-test-'));
      try {
        await chmod(dir, 0o755); // nobody may enter, read the input and run dl from here
        const dest = join(dir, 'dest');
        await mkdir(dest);
        await chmod(dest, 0o555); // owned by root: nobody cannot write
        const logs = join(dir, 'logs');
        await mkdir(logs);
        await chmod(logs, 0o777); // the joblog itself could be written
        await writeFile(join(dir, 'urls.txt'), `${server.url('/clean/denied.bin')}\n`, { mode: 0o644 });

        const requestsBefore = server.requests.length;
        const result = await runCliAs(NOBODY, NOBODY, ['--joblog', join(logs, 'run.jsonl'), '-d', dest, 'urls.txt'], dir);
        expect(result.code, result.stderr).toBe(2);
        expect(result.stderr).toContain(dest);
        expect(result.stderr).toMatch(/permission denied|not writable|cannot write/i);
        expect(result.stderr).not.toMatch(STACK);
        expect(server.requests.slice(requestsBefore)).toEqual([]);
        expect(await readdir(dest)).toEqual([]);
      } finally {
        await chmod(join(dir, 'dest'), 0o755).catch(() => undefined);
        await rm(dir, { recursive: true, force: true });
      }
    },
  );

  // Node's own recursive mkdir goes back and forth for ever here (src/fs/make-folders.ts).
  it.runIf(existsSync('/proc/self'))('a destination folder under /proc: exit 2 naming it, before any request, instead of hanging', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'urls.txt'), `${server.url('/clean/under-proc.bin')}\n`);
      const requestsBefore = server.requests.length;
      const result = await runCli(['--joblog', 'run.jsonl', '-d', '/proc/dl-no-such-folder/out', 'urls.txt'], dir);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain('cannot write to the destination folder /proc/dl-no-such-folder/out: no such file or folder');
      expect(result.stderr).not.toMatch(STACK);
      expect(server.requests.slice(requestsBefore)).toEqual([]);
    });
  });

  it('a destination folder behind a link to nothing: exit 2 naming it, before any request', async () => {
    await withTempDir(async (dir) => {
      await symlink(join(dir, 'gone'), join(dir, 'link'));
      await writeFile(join(dir, 'urls.txt'), `${server.url('/clean/behind-link.bin')}\n`);
      const requestsBefore = server.requests.length;
      const result = await runCli(['--joblog', 'run.jsonl', '-d', 'link/out', 'urls.txt'], dir);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain(`cannot write to the destination folder ${join(dir, 'link', 'out')}: no such file or folder`);
      expect(result.stderr).not.toMatch(STACK);
      expect(server.requests.slice(requestsBefore)).toEqual([]);
    });
  });

  it("a job whose folder cannot be made fails at once, not retried, and the others are done", async () => {
    await withTempDir(async (dir) => {
      await mkdir(join(dir, 'out'));
      await symlink(join(dir, 'gone'), join(dir, 'out', 'link'));
      const lines = [
        { url: server.url('/clean/in-link.bin'), dir: 'link/sub' },
        { url: server.url('/clean/beside.bin') },
      ];
      await writeFile(join(dir, 'in.jsonl'), lines.map((line) => JSON.stringify(line)).join('\n') + '\n');
      const result = await runCli(['--joblog', 'run.jsonl', '-d', 'out', 'in.jsonl'], dir);
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toMatch(/in-link\.bin: no such file or folder \[ENOENT\]/);
      const records = await readRecords(join(dir, 'run.jsonl'));
      expect(records.filter((r) => r.t === 'fail')).toEqual([expect.objectContaining({ seq: 1, attempt: 1, final: true, code: 'ENOENT' })]);
      expect(records.filter((r) => r.t === 'done').map((r) => r.seq)).toEqual([2]);
      expect(await readFile(join(dir, 'out', 'beside.bin'))).toEqual(expectedBody('/clean/beside.bin'));
    });
  });
});
