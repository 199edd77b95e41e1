import { link, open, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { JoblogLockedError } from '../errors/errors.js';
import { sleep } from '../utils/sleep.js';
import { temporaryName } from '../utils/temporary-name.js';

/**
 * One process at a time per joblog: `<joblog>.lock` holds the owner's pid and host. A lock whose
 * process is gone (kill -9, crash, reboot) is taken over; a live one is a clear error.
 *
 * Two runs started at the same moment must not both win. The lock file is therefore never
 * created empty and then written (a second run reading it in between took an empty lock for a
 * dead one): it is written under a temporary name and hard-linked into place, which fails if a
 * lock is there. A stale lock is removed only by the one process that holds
 * `<joblog>.lock.takeover` (created exclusively), and only if it still holds what was judged
 * stale; everyone then races for the free name with a link, which exactly one wins.
 */
/** Locks this process holds: its own pid in a lock file does not tell a second run apart. */
const heldHere = new Set<string>();

/** A takeover older than this was left by a process that died during it. */
const TAKEOVER_STALE_MS = 10_000;
/** How long a run waits, in all, for another one's takeover to end. */
const TAKEOVER_WAIT_MS = 5_000;
const LINK_UNSUPPORTED = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

export class JoblogLock {
  private constructor(
    readonly path: string,
    private readonly token: string,
  ) {}

  static async acquire(joblog: string): Promise<JoblogLock> {
    const path = `${joblog}.lock`;
    if (heldHere.has(path)) throw new JoblogLockedError(joblog, process.pid);
    const token = JSON.stringify({ pid: process.pid, host: hostname(), ts: new Date().toISOString() });
    const deadline = Date.now() + TAKEOVER_WAIT_MS;
    for (;;) {
      if (await createExclusively(path, token)) {
        heldHere.add(path);
        return new JoblogLock(path, token);
      }
      const seen = await readFile(path, 'utf8').catch(() => undefined);
      if (seen === undefined) continue; // released in between: try again
      const holder = parseHolder(seen);
      if (holder && isAlive(holder)) throw new JoblogLockedError(joblog, holder.pid);
      const outcome = await takeOver(path, seen);
      if (outcome === 'busy') {
        if (Date.now() > deadline) throw new JoblogLockedError(joblog, holder?.pid ?? 0);
        await sleep(20);
      }
    }
  }

  async release(): Promise<void> {
    // Only remove the lock if it is still ours (a takeover by another process must not be undone).
    heldHere.delete(this.path);
    const content = await readFile(this.path, 'utf8').catch(() => '');
    if (content === this.token) await unlink(this.path).catch(() => undefined);
  }
}

/** A process holding a joblog's lock. */
export interface Holder {
  pid: number;
  host: string;
}

/**
 * The live process that holds `joblog`'s lock, if any: none when there is no lock, or only one
 * left by a process that is gone (kill -9, a crash, a reboot). A lock of another machine's
 * (a shared folder) cannot be checked and counts as held, as for a run that wants it.
 */
export async function lockHolder(joblog: string): Promise<Holder | undefined> {
  const path = `${joblog}.lock`;
  if (heldHere.has(path)) return { pid: process.pid, host: hostname() };
  const seen = await readFile(path, 'utf8').catch(() => undefined);
  const holder = seen === undefined ? undefined : parseHolder(seen);
  return holder && isAlive(holder) ? holder : undefined;
}

function parseHolder(text: string): Holder | undefined {
  try {
    const parsed = JSON.parse(text) as Partial<Holder>;
    if (typeof parsed.pid === 'number') return { pid: parsed.pid, host: String(parsed.host ?? '') };
  } catch {
    // An empty or half-written lock file (left by a run that died while writing it).
  }
  return undefined;
}

/**
 * Creates the lock file with `token` in it, whole, if no lock file is there: written under a
 * temporary name and hard-linked into place. Where the file system has no hard links, it is
 * created exclusively and then written, as well as it can be done there.
 */
async function createExclusively(path: string, token: string): Promise<boolean> {
  const temporary = temporaryName(path);
  await writeFile(temporary, token, { mode: 0o600, flag: 'wx' });
  try {
    await link(temporary, path);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (code === 'EEXIST') return false;
    if (!LINK_UNSUPPORTED.has(code)) throw error;
    try {
      await writeFile(path, token, { mode: 0o600, flag: 'wx' });
      return true;
    } catch (fallbackError) {
      if ((fallbackError as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw fallbackError;
    }
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
}

/**
 * Removes the stale lock that read `stale`, holding the takeover file while doing it; 'busy'
 * when another run is taking over (or has just put its own lock there).
 */
async function takeOver(path: string, stale: string): Promise<'removed' | 'busy'> {
  const marker = `${path}.takeover`;
  try {
    await writeFile(marker, String(process.pid), { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const since = await stat(marker).then((info) => Date.now() - info.mtimeMs, () => 0);
    if (since > TAKEOVER_STALE_MS) await unlink(marker).catch(() => undefined);
    return 'busy';
  }
  try {
    const now = await readFile(path, 'utf8').catch(() => undefined);
    if (now !== stale) return 'busy';
    await unlink(path).catch(() => undefined);
    return 'removed';
  } finally {
    await unlink(marker).catch(() => undefined);
  }
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
