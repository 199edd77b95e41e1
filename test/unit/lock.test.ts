import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JoblogLockedError } from '../../src/errors/errors.js';
import { JoblogLock } from '../../src/joblog/lock.js';

let dir: string;
let log: string;
let lockPath: string;
const children: ChildProcess[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dl-lock-'));
  log = join(dir, 'jobs.jsonl');
  lockPath = `${log}.lock`;
});

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
  }
  await rm(dir, { recursive: true, force: true });
});

/** A live process that is not this one. */
async function liveChild(): Promise<ChildProcess> {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', reject);
  });
  return child;
}

/** The pid of a process that has exited (and been reaped). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

const LOCK_MODULE = join(import.meta.dirname, '../../dist/joblog/lock.js');

/**
 * Starts `count` processes that try for the lock at the same moment; each prints "won" or
 * "lost". Winners keep their lock (they stay alive) until every racer has answered.
 */
async function race(count: number): Promise<string[]> {
  const startAt = Date.now() + 500;
  const script = `const { JoblogLock } = await import(${JSON.stringify(LOCK_MODULE)});
while (Date.now() < ${startAt}) {}
try { await JoblogLock.acquire(${JSON.stringify(log)}); console.log('won'); setInterval(() => {}, 1000); }
catch (error) { console.log(error.code === 'JOBLOG_LOCKED' ? 'lost' : String(error)); }`;
  const racers = Array.from({ length: count }, () => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    return new Promise<string>((resolve) => {
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) resolve(out.trim());
      });
      child.on('exit', () => resolve(out.trim()));
    });
  });
  return Promise.all(racers);
}

const holder = (pid: number, host = hostname()): string => JSON.stringify({ pid, host, ts: new Date().toISOString() });

describe('JoblogLock', () => {
  it('lets exactly one of several runs started at once win, with no lock there and with a stale one', async () => {
    for (const start of ['none', 'stale', 'none', 'stale']) {
      await rm(lockPath, { force: true });
      if (start === 'stale') await writeFile(lockPath, holder(await deadPid()));
      const answers = await race(5);
      expect(answers.filter((a) => a === 'won'), answers.join(',')).toHaveLength(1);
      expect(answers.filter((a) => a === 'lost')).toHaveLength(4);
      for (const child of children.splice(0)) child.kill('SIGKILL');
    }
  });

  it('acquire creates <joblog>.lock holding this pid and host; release removes it', async () => {
    const lock = await JoblogLock.acquire(log);
    expect(lock.path).toBe(lockPath);
    const content = JSON.parse(await readFile(lockPath, 'utf8')) as { pid: number; host: string };
    expect(content.pid).toBe(process.pid);
    expect(content.host).toBe(hostname());
    expect((await stat(lockPath)).mode & 0o077).toBe(0);
    await lock.release();
    await expect(stat(lockPath)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses a lock held by a live process with JoblogLockedError', async () => {
    const child = await liveChild();
    const content = holder(child.pid!);
    await writeFile(lockPath, content);
    const error = await JoblogLock.acquire(log).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(JoblogLockedError);
    expect((error as JoblogLockedError).holderPid).toBe(child.pid);
    expect((error as JoblogLockedError).code).toBe('JOBLOG_LOCKED');
    expect((error as JoblogLockedError).joblog).toBe(log);
    // The holder's lock is left alone.
    expect(await readFile(lockPath, 'utf8')).toBe(content);
  });

  it('takes over a lock whose process is gone', async () => {
    const pid = await deadPid();
    await writeFile(lockPath, holder(pid));
    const lock = await JoblogLock.acquire(log);
    const content = JSON.parse(await readFile(lockPath, 'utf8')) as { pid: number };
    expect(content.pid).toBe(process.pid);
    await lock.release();
    await expect(stat(lockPath)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('takes over an empty or unreadable lock file (its writer died before writing)', async () => {
    for (const content of ['', '{"pid":', 'garbage']) {
      await writeFile(lockPath, content);
      const lock = await JoblogLock.acquire(log);
      expect((JSON.parse(await readFile(lockPath, 'utf8')) as { pid: number }).pid).toBe(process.pid);
      await lock.release();
    }
  });

  it('treats a lock from another machine as held', async () => {
    const content = holder(process.pid + 1_000_000, 'some-other-host.invalid');
    await writeFile(lockPath, content);
    await expect(JoblogLock.acquire(log)).rejects.toBeInstanceOf(JoblogLockedError);
    expect(await readFile(lockPath, 'utf8')).toBe(content);
  });

  it('release removes only its own lock', async () => {
    const lock = await JoblogLock.acquire(log);
    // Another process took the lock over in the meantime.
    const child = await liveChild();
    const theirs = holder(child.pid!);
    await writeFile(lockPath, theirs);
    await lock.release();
    expect(await readFile(lockPath, 'utf8')).toBe(theirs);
  });

  it('release does not fail when the lock file is already gone', async () => {
    const lock = await JoblogLock.acquire(log);
    await rm(lockPath);
    await expect(lock.release()).resolves.toBeUndefined();
  });

  it('can be acquired again after release', async () => {
    const first = await JoblogLock.acquire(log);
    await first.release();
    const second = await JoblogLock.acquire(log);
    expect((JSON.parse(await readFile(lockPath, 'utf8')) as { pid: number }).pid).toBe(process.pid);
    await second.release();
    await expect(stat(lockPath)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('locks are per joblog', async () => {
    const a = await JoblogLock.acquire(log);
    const b = await JoblogLock.acquire(join(dir, 'other.jsonl'));
    expect(a.path).not.toBe(b.path);
    await a.release();
    expect((await stat(b.path)).isFile()).toBe(true);
    await b.release();
  });

  it('reports a missing folder as the error it is, not as a locked log', async () => {
    const error = await JoblogLock.acquire(join(dir, 'missing', 'jobs.jsonl')).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).not.toBeInstanceOf(JoblogLockedError);
    expect((error as NodeJS.ErrnoException).code).toBe('ENOENT');
  });
});
