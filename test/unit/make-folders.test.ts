import { existsSync } from 'node:fs';
import { mkdir, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeFolders } from '../../src/fs/make-folders.js';
import { withTempDir } from '../helpers/cli.js';

const isFolder = async (path: string): Promise<boolean> => (await stat(path)).isDirectory();

describe('makeFolders', () => {
  it('makes a folder and its missing parents, and takes one that is there, or a link to one', async () => {
    await withTempDir(async (dir) => {
      await makeFolders(join(dir, 'a', 'b', 'c'));
      expect(await isFolder(join(dir, 'a', 'b', 'c'))).toBe(true);
      await makeFolders(join(dir, 'a', 'b'));
      await symlink(join(dir, 'a'), join(dir, 'to-a'));
      await makeFolders(join(dir, 'to-a', 'd'));
      expect(await isFolder(join(dir, 'a', 'd'))).toBe(true);
      await makeFolders(join(dir, 'to-a'));
    });
  });

  it('makes the same folders for many callers at once', async () => {
    await withTempDir(async (dir) => {
      const deep = join(dir, 'x', 'y', 'z');
      await Promise.all(Array.from({ length: 16 }, () => makeFolders(deep)));
      expect(await isFolder(deep)).toBe(true);
    });
  });

  it('refuses a file where a folder must go, as mkdir -p does', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'file'), 'x');
      await expect(makeFolders(join(dir, 'file'))).rejects.toMatchObject({ code: 'EEXIST' });
      await expect(makeFolders(join(dir, 'file', 'sub'))).rejects.toMatchObject({ code: 'ENOTDIR' });
    });
  });

  it('says ENOENT behind a link to nothing (Node answers ENOTDIR)', async () => {
    await withTempDir(async (dir) => {
      await symlink(join(dir, 'gone'), join(dir, 'link'));
      await expect(makeFolders(join(dir, 'link', 'out'))).rejects.toMatchObject({ code: 'ENOENT' });
      await expect(makeFolders(join(dir, 'link'))).rejects.toMatchObject({ code: 'ENOENT' });
      await mkdir(join(dir, 'gone'));
      await makeFolders(join(dir, 'link', 'out'));
      expect(await isFolder(join(dir, 'gone', 'out'))).toBe(true);
    });
  });

  // Node's mkdir(path, { recursive: true }) never settles here.
  it.runIf(existsSync('/proc/self'))('ends with ENOENT under /proc, where no folder can be made', async () => {
    await expect(makeFolders('/proc/dl-no-such-folder/out')).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
