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
  const missing = await makeOne(path);
  if (!missing) return;
  const parent = dirname(path);
  if (parent === path) throw missing;
  await makeFolders(parent);
  // Once more only: a child still ENOENT once its parent is there cannot be made (see above).
  const still = await makeOne(path);
  if (still) throw still;
}

/**
 * One folder: undefined once it is there (made now, or a folder or a link to one already, made
 * by another job of the run, say); mkdir's ENOENT when its parent is missing; anything else is
 * thrown. A file in the way stays mkdir's EEXIST; a link to nothing throws stat's ENOENT, which
 * says so better than "exists".
 */
async function makeOne(path: string): Promise<unknown> {
  try {
    await mkdir(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return error;
    if (code !== 'EEXIST' || !(await stat(path)).isDirectory()) throw error;
  }
  return undefined;
}
