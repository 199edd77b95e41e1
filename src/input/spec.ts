/** One entry of an input file, before it is validated into a job. */
export interface JobSpec {
  /** The URL as written. */
  url: string;
  /** Where it came from: `file:line` (for aria2 entries, the URL's line). */
  src: string;
  /** A file name (or path) given by the input, relative to `dir`. */
  out?: string;
  /** A folder given by the input, relative to the destination folder. */
  dir?: string;
  /** `sha-256=HEX`, `sha-1=HEX` or `md5=HEX`. */
  checksum?: string;
  headers?: Record<string, string>;
}

export const INPUT_FORMATS = ['plain', 'aria2', 'jsonl'] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];

/** What to do when a job's name is taken by a file this joblog did not write. */
export const CONFLICT_POLICIES = ['rename', 'skip', 'overwrite'] as const;
export type ConflictPolicy = (typeof CONFLICT_POLICIES)[number];
