import { HashSet } from '../utils/hash-set.js';
import { fitBytes, MAX_NAME_BYTES } from './naming.js';

/**
 * Gives every job a distinct output path: the first job to ask for `a.jpg` gets it, later ones get
 * `a.1.jpg`, `a.2.jpg`, ... Names are compared without case, so that the files can live on a
 * case-insensitive file system too. The choice is made once and stored in the job record.
 */
export class NameAllocator {
  /**
   * 48-bit hashes (utils/hash-set.ts): a false "taken" would give a name a suffix it did not
   * need, about 0.002 times in a million names (with 32 bits: some 116 times).
   */
  private readonly taken: HashSet;
  /** Next suffix to try for names that collided before (only those are kept). */
  private readonly nextSuffix = new Map<string, number>();

  constructor(expected = 1024) {
    this.taken = new HashSet(48, expected, true);
  }

  /** Marks a path as used by an existing job (read from the joblog). */
  reserve(path: string): void {
    this.taken.add(path);
  }

  allocate(path: string): string {
    if (this.taken.add(path)) return path;
    const key = path.toLowerCase();
    const slash = path.lastIndexOf('/');
    const dir = path.slice(0, slash + 1);
    const name = path.slice(slash + 1);
    for (let n = this.nextSuffix.get(key) ?? 1; ; n++) {
      const candidate = dir + fitBytes(name, `.${n}`, MAX_NAME_BYTES);
      if (this.taken.add(candidate)) {
        this.nextSuffix.set(key, n + 1);
        return candidate;
      }
    }
  }
}
