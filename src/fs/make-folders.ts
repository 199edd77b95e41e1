import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * A folder and whichever of its parents are missing, as `mkdir -p` makes them. Not Node's
 * `mkdir(path, { recursive: true })`:
 * - where a parent exists but cannot hold the child (a path under /proc), mkdir answers ENOENT
 *   for the child and EEXIST for the parent, and Node's walk goes back and forth between the two
 *   for ever (Node 20.20; `dl -d /proc/x` hung at start-up, using a core). Here a child that is
 *   still ENOENT once its parent is there is an error, as it is for `mkdir -p`;
 * - behind a symbolic link to nothing, Node's answers ENOTDIR ("a file is in the way"), where
 *   this says ENOENT, which is what is wrong.
 */
export async function makeFolders(path: string): Promise<void> {
  try {
    await mkdir(path);
    return;
  } catch (error) {
    if (codeOf(error) === 'EEXIST') return mustBeFolder(path, error);
    const parent = dirname(path);
    if (codeOf(error) !== 'ENOENT' || parent === path) throw error;
  }
  await makeFolders(dirname(path));
  try {
    await mkdir(path);
  } catch (error) {
    // Made meanwhile by another job of the run, which is as good.
    if (codeOf(error) === 'EEXIST') return mustBeFolder(path, error);
    throw error;
  }
}

/**
 * A path that exists is fine if it is a folder, or a link to one. A file stays mkdir's EEXIST;
 * a link to nothing is stat's ENOENT, which says so better than "exists".
 */
async function mustBeFolder(path: string, exists: unknown): Promise<void> {
  const info = await stat(path);
  if (!info.isDirectory()) throw exists;
}

const codeOf = (error: unknown): string | undefined => (error as NodeJS.ErrnoException | undefined)?.code;
