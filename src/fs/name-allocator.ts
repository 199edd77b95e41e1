import { HashSet } from '../utils/hash-set.js';
import { fitBytes, MAX_NAME_BYTES } from './naming.js';
import { PART_SUFFIX } from './safe-path.js';

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
    // A job named `x.part` also holds `x`: a job named `x` would write its partial file over it.
    const stem = partStem(path);
    if (stem !== undefined) this.taken.add(stem);
  }

  allocate(path: string): string {
    if (this.claim(path)) return path;
    const key = path.toLowerCase();
    const slash = path.lastIndexOf('/');
    const dir = path.slice(0, slash + 1);
    const name = path.slice(slash + 1);
    for (let n = this.nextSuffix.get(key) ?? 1; ; n++) {
      const candidate = dir + fitBytes(name, `.${n}`, MAX_NAME_BYTES);
      if (this.claim(candidate)) {
        this.nextSuffix.set(key, n + 1);
        return candidate;
      }
    }
  }

  /**
   * Takes `path` if it is free. A job's partial file is its name with `.part` added
   * (fs/safe-path.ts), so a name `x.part` is the partial file of a job named `x`: it is taken
   * only together with `x`, which keeps a job named `x` from ever writing over its file. (Found
   * by test: each job of such a pair destroyed the other's file, both recorded as done.)
   */
  private claim(path: string): boolean {
    const stem = partStem(path);
    if (stem === undefined) return this.taken.add(path);
    if (this.taken.has(path) || this.taken.has(stem)) return false;
    this.taken.add(path);
    this.taken.add(stem);
    return true;
  }
}

/**
 * `x` for a name `x.part` (the suffix in any case: names are compared without case); undefined
 * for any other name. Character checks, no strings made: every new job's name passes here.
 */
function partStem(path: string): string | undefined {
  const at = path.length - PART_SUFFIX.length;
  if (at <= 0 || path.charCodeAt(at) !== 0x2e) return undefined;
  for (let i = 1; i < PART_SUFFIX.length; i++) if ((path.charCodeAt(at + i) | 0x20) !== PART_SUFFIX.charCodeAt(i)) return undefined;
  return path.slice(0, at);
}
