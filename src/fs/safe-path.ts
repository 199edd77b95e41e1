import { realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { LocalError } from '../errors/errors.js';

/**
 * The absolute path of `out` inside `destdir`, or an error when it would land anywhere else.
 * Names are sanitized before they get here; this is the last line of defence, not the first.
 */
export function resolveInside(destdir: string, out: string): string {
  const root = resolve(destdir);
  const target = resolve(root, out);
  const rel = relative(root, target);
  if (rel === '' || leavesRoot(rel) || out.includes('\0')) {
    throw new LocalError('UNSAFE_PATH', `refusing to write outside the destination folder: ${out}`, false);
  }
  return target;
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

/** Where a download is written until it is complete. */
export function partPath(finalPath: string): string {
  return `${finalPath}.part`;
}
