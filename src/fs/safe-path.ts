import { realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { LocalError } from '../errors/errors.js';

/**
 * The absolute path of `out` inside `destdir`, or an error when it would land anywhere else.
 * Names are sanitized before they get here; this is the last line of defence, not the first.
 */
export function resolveInside(destdir: string, out: string): string {
  const root = rootOf(destdir);
  // The common case, a job's own name, needs no resolving: joined as it is (a few string
  // searches, where resolve() and relative() took 5 us a job).
  if (isPlain(out)) return root === sep ? root + out : root + sep + out;
  const target = resolve(root, out);
  const rel = relative(root, target);
  if (rel === '' || leavesRoot(rel) || out.includes('\0')) {
    throw new LocalError('UNSAFE_PATH', `refusing to write outside the destination folder: ${out}`, false);
  }
  return target;
}

/**
 * A relative name that `resolve` would leave as it is: POSIX separators, and no empty (the name itself included), `.` or
 * `..` segment (nor a NUL byte). Anything else takes the long way.
 */
function isPlain(out: string): boolean {
  if (sep !== '/' || out.includes('\0')) return false;
  const framed = `/${out}/`;
  return !framed.includes('//') && !framed.includes('/./') && !framed.includes('/../');
}

/** The destination folder as an absolute path; an absolute one is resolved once, not per job. */
let lastFolder = '';
let lastRoot = '';
function rootOf(destdir: string): string {
  if (destdir === lastFolder) return lastRoot;
  const root = resolve(destdir);
  // A relative folder depends on the working directory, which may change: resolved every time.
  if (isAbsolute(destdir)) {
    lastFolder = destdir;
    lastRoot = root;
  }
  return root;
}

/**
 * Checks that a folder inside the destination folder really is inside it: a subfolder that is a
 * symlink to somewhere else (planted, or left by a previous tool) fails with UNSAFE_PATH.
 */
export async function assertRealFolderInside(destdir: string, folder: string): Promise<void> {
  const [root, real] = await Promise.all([realpath(destdir), realpath(folder)]);
  const rel = relative(root, real);
  if (leavesRoot(rel)) {
    throw new LocalError('UNSAFE_PATH', `refusing to write through ${folder}: it leads outside the destination folder`, false);
  }
}

/** A path relative to a folder (from `relative`) that leads outside it. */
function leavesRoot(rel: string): boolean {
  return rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel);
}

/** What a final path gets while its file is being written (see NameAllocator for what it implies). */
export const PART_SUFFIX = '.part';

/** Where a download is written until it is complete. */
export function partPath(finalPath: string): string {
  return finalPath + PART_SUFFIX;
}
