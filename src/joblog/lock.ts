import { open, readFile, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { JoblogLockedError } from '../errors/errors.js';

/**
 * One process at a time per joblog: `<joblog>.lock` holds the owner's pid and host. A lock whose
 * process is gone (kill -9, crash, reboot) is taken over; a live one is a clear error.
 */
/** Locks this process holds: its own pid in a lock file does not tell a second run apart. */
const heldHere = new Set<string>();

export class JoblogLock {
  private constructor(
    readonly path: string,
    private readonly token: string,
  ) {}

  static async acquire(joblog: string): Promise<JoblogLock> {
    const path = `${joblog}.lock`;
    const token = JSON.stringify({ pid: process.pid, host: hostname(), ts: new Date().toISOString() });
    // Two rounds: the second one runs after a stale lock was removed.
    for (let round = 0; round < 2; round++) {
      try {
        const handle = await open(path, 'wx', 0o600);
        await handle.writeFile(token);
        await handle.close();
        heldHere.add(path);
        return new JoblogLock(path, token);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = await readHolder(path);
      if (heldHere.has(path)) throw new JoblogLockedError(joblog, process.pid);
      if (holder && isAlive(holder)) throw new JoblogLockedError(joblog, holder.pid);
      await unlink(path).catch(() => undefined);
    }
    const holder = await readHolder(path);
    throw new JoblogLockedError(joblog, holder?.pid ?? 0);
  }

  async release(): Promise<void> {
    // Only remove the lock if it is still ours (a takeover by another process must not be undone).
    heldHere.delete(this.path);
    const content = await readFile(this.path, 'utf8').catch(() => '');
    if (content === this.token) await unlink(this.path).catch(() => undefined);
  }
}

interface Holder {
  pid: number;
  host: string;
}

async function readHolder(path: string): Promise<Holder | undefined> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<Holder>;
    if (typeof parsed.pid === 'number') return { pid: parsed.pid, host: String(parsed.host ?? '') };
  } catch {
    // An empty or half-written lock file: its writer died between open and write.
  }
  return undefined;
}

function isAlive(holder: Holder): boolean {
  // A lock from another machine (shared folder) cannot be checked: treat it as held.
  if (holder.host && holder.host !== hostname()) return true;
  if (holder.pid === process.pid) return false;
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
