import type { EventListener } from '../engine/events.js';
import type { NameAllocator } from '../fs/name-allocator.js';
import { nameFromUrl, sanitizeName } from '../fs/naming.js';
import type { ExistingFiles } from '../fs/existing-files.js';
import { jobKey, now, type JobRecord } from '../joblog/records.js';
import type { JoblogWriter } from '../joblog/writer.js';
import type { HashSet } from '../utils/hash-set.js';
import { redactUrl } from '../utils/redact-url.js';
import { parseChecksum } from './checksum.js';
import type { ConflictPolicy, JobSpec } from './spec.js';
import { checkUrl } from './url-line.js';
import { HEADER_NAME } from '../http/header-line.js';

/** A job just written to the joblog, with its URL if it was parsed (the engine's ActiveJob is made from it). */
export interface NewJob {
  record: JobRecord;
  offset: number;
  url: URL | undefined;
}


export interface ResolverDeps {
  writer: JoblogWriter;
  /** Keys of every job in the log (see jobKey): an entry whose key is here is a job already. */
  keys: HashSet;
  names: NameAllocator;
  emit: EventListener;
  /** Highest seq in the log before this run. */
  lastSeq: number;
  /** Files already in the destination folder, and what to do when a new job's name is one. */
  existing: ExistingFiles;
  onConflict: ConflictPolicy;
}

/**
 * Turns input entries into jobs: validates the URL and what the input says about the file,
 * drops entries that are jobs already (same URL and same given name), picks a distinct name,
 * assigns the next seq and appends the job record, all as each entry arrives.
 */
export class Resolver implements NameClaim {
  private seq: number;
  rejected = 0;
  /** Jobs recorded as done because their file was already there (--on-conflict skip). */
  skippedExisting = 0;

  constructor(private readonly deps: ResolverDeps) {
    this.seq = deps.lastSeq;
  }

  /** Highest seq handed out so far. */
  get lastSeq(): number {
    return this.seq;
  }

  /**
   * A name chosen once the response is there (Content-Disposition): distinct from every job's,
   * and, unless --on-conflict overwrite, from files already in the destination folder.
   */
  claimName(path: string): string {
    const out = this.deps.names.allocate(path);
    return this.deps.onConflict !== 'overwrite' && this.deps.existing.has(out) ? this.nextFree(path) : out;
  }

  /** The next of `name.1.ext`, `name.2.ext`, ... that no job has and no file in the folder is. */
  private nextFree(path: string): string {
    let out = this.deps.names.allocate(path);
    while (this.deps.existing.has(out)) out = this.deps.names.allocate(path);
    return out;
  }

  /** An input line that is not an entry: reported as `file:line: reason`, the run goes on. */
  reject(src: string, reason: string): undefined {
    this.rejected++;
    this.deps.emit({ type: 'input-error', src, reason });
    return undefined;
  }

  /** The new job for this entry, or undefined when it is rejected or a job already. */
  resolve(spec: JobSpec): NewJob | undefined {
    const url = checkUrl(spec.url.trim());
    if (typeof url === 'string') return this.reject(spec.src, url);
    const folder = spec.dir === undefined ? NO_SEGMENTS : relativePath(spec.dir, 'dir');
    if (typeof folder === 'string') return this.reject(spec.src, folder);
    const given = spec.out === undefined ? undefined : relativePath(spec.out, 'out');
    if (typeof given === 'string') return this.reject(spec.src, given);
    if (given?.length === 0) return this.reject(spec.src, 'out= names no file');
    const checksum = spec.checksum === undefined ? undefined : parseChecksum(spec.checksum);
    if (typeof checksum === 'string') return this.reject(spec.src, checksum);
    const headerError = spec.headers && Object.keys(spec.headers).find((name) => !HEADER_NAME.test(name));
    if (headerError !== undefined) return this.reject(spec.src, `not a header name: ${JSON.stringify(headerError)}`);

    const named = spec.out !== undefined || spec.dir !== undefined;
    const dir = folder.join('/');
    const name = given ? given.join('/') : nameFromUrl(url);
    const path = dir ? `${dir}/${name}` : name;
    if (!this.deps.keys.add(jobKey(url.href, named ? path : undefined))) return undefined;
    let out = this.deps.names.allocate(path);
    // The joblog's own jobs have their names reserved already: a file found under a new job's
    // name is someone else's.
    const there = this.deps.onConflict === 'overwrite' ? undefined : this.deps.existing.sizeIfThere(out);
    const taken = there !== undefined;
    if (taken && this.deps.onConflict === 'rename') out = this.nextFree(path);
    // Plain entries (the millions) get a literal; only richer ones pay for the optional fields.
    const record: JobRecord =
      !named && !checksum && !spec.headers
        ? { t: 'job', seq: ++this.seq, url: url.href, out, src: spec.src }
        : {
            t: 'job',
            seq: ++this.seq,
            url: url.href,
            out,
            ...(dir ? { dir } : {}),
            ...(checksum ? { checksum: `${checksum.label}=${checksum.hex}` } : {}),
            ...(spec.headers ? { headers: spec.headers } : {}),
            ...(named ? { named: true as const } : {}),
            src: spec.src,
          };
    const offset = this.deps.writer.append(record);
    this.deps.emit({ type: 'queued', seq: record.seq, url: redactUrl(record.url), out });
    if (taken && this.deps.onConflict === 'skip') {
      // The file there counts as this job's: done, with status 0 (nothing was requested).
      this.deps.writer.append({ t: 'done', seq: record.seq, ts: now(), bytes: there, path: out, status: 0 });
      this.skippedExisting++;
      return undefined;
    }
    return { record, offset, url: url.parsed };
  }
}

const NO_SEGMENTS: readonly string[] = [];

export interface NameClaim {
  /** A name for a file that turns out to have one of its own (Content-Disposition). */
  claimName(path: string): string;
}

/**
 * A path the input gave, as safe segments under the destination folder, or why it is refused.
 * An absolute path counts from the destination folder (aria2 lists often say `dir=/iso_images`);
 * drive letters, NUL bytes and `..` are refused.
 */
function relativePath(text: string, what: string): string[] | string {
  if (text.includes('\0')) return `${what}= contains a NUL byte`;
  if (/^[A-Za-z]:/.test(text)) return `${what}= names a drive: ${JSON.stringify(text)}`;
  const segments = text.split(/[\\/]+/).filter((segment) => segment !== '' && segment !== '.');
  if (segments.includes('..')) return `${what}= may not climb out with "..": ${JSON.stringify(text)}`;
  return segments.map(sanitizeName);
}
