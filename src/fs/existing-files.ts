import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { HashSet } from '../utils/hash-set.js';

/**
 * Names already in the destination folder's folders, each listed once when a job first wants a
 * name in it (a stat per job would cost seconds at a million jobs). The listing keeps 32-bit
 * hashes of the names, without case; a name it matches is confirmed with lstat, since a hash
 * shared by two names would otherwise skip a job whose file is not there (--on-conflict skip),
 * and the file system itself tells whether a name differing only in case is the same file.
 * Files that appear after the listing are not seen; the final rename replaces them, as it would
 * without this check.
 */
export class ExistingFiles {
  private readonly folders = new Map<string, HashSet>();

  constructor(private readonly destdir: string) {}

  /** Size of what is at `path`: 0 when it is not a file, undefined when nothing is there. */
  private sizeOf(path: string): number | undefined {
    try {
      const info = lstatSync(join(this.destdir, path));
      return info.isFile() ? info.size : 0;
    } catch {
      return undefined;
    }
  }

  /** Whether `path` (relative, `/`-separated) names something that is already there. */
  has(path: string): boolean {
    return this.sizeIfThere(path) !== undefined;
  }

  /**
   * The size of what `path` names (0 when it is not a file), or undefined when nothing is
   * there: the listing decides, and lstat confirms what it matches.
   */
  sizeIfThere(path: string): number | undefined {
    const slash = path.lastIndexOf('/');
    const folder = path.slice(0, slash + 1);
    let names = this.folders.get(folder);
    if (!names) {
      let listing: string[] = [];
      try {
        listing = readdirSync(join(this.destdir, folder));
      } catch {
        // A folder that does not exist yet holds nothing.
      }
      names = new HashSet(32, listing.length, true);
      for (const name of listing) names.add(name);
      this.folders.set(folder, names);
    }
    // A fresh destination folder is empty: no name to hash.
    return names.size > 0 && names.has(path.slice(slash + 1)) ? this.sizeOf(path) : undefined;
  }
}
