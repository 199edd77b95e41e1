import type { EventListener } from '../engine/events.js';
import type { NameAllocator } from '../fs/name-allocator.js';
import { nameFromUrl } from '../fs/naming.js';
import type { JobRecord } from '../joblog/records.js';
import type { JoblogWriter } from '../joblog/writer.js';
import type { HashSet } from '../utils/hash-set.js';
import { redactUrl } from '../utils/redact-url.js';
import { parseUrlLine } from './url-line.js';

/** A job just written to the joblog, with its parsed URL (the engine's ActiveJob is made from it). */
export interface NewJob {
  record: JobRecord;
  offset: number;
  url: URL;
}

export interface ResolverDeps {
  writer: JoblogWriter;
  /** Keys of every job in the log: a line whose key is here is a job already. */
  keys: HashSet;
  names: NameAllocator;
  emit: EventListener;
  /** Highest seq in the log before this run. */
  lastSeq: number;
}

/**
 * Turns input lines into jobs: validates, drops lines that are jobs already (same URL), picks a
 * distinct name, assigns the next seq and appends the job record, all as each line arrives.
 */
export class Resolver {
  private seq: number;
  rejected = 0;

  constructor(private readonly deps: ResolverDeps) {
    this.seq = deps.lastSeq;
  }

  /** Highest seq handed out so far (the number of jobs in the log). */
  get lastSeq(): number {
    return this.seq;
  }

  /** The new job for this line, or undefined when it is blank, a comment, rejected or known. */
  resolve(text: string, src: string): NewJob | undefined {
    const parsed = parseUrlLine(text);
    if (parsed.kind === 'skip') return undefined;
    if (parsed.kind === 'error') {
      this.rejected++;
      this.deps.emit({ type: 'input-error', src, reason: parsed.reason });
      return undefined;
    }
    const url = parsed.url;
    if (!this.deps.keys.add(url.href)) return undefined;
    const out = this.deps.names.allocate(nameFromUrl(url));
    const record: JobRecord = { t: 'job', seq: ++this.seq, url: url.href, out, src };
    const offset = this.deps.writer.append(record);
    this.deps.emit({ type: 'queued', seq: record.seq, url: redactUrl(record.url), out });
    return { record, offset, url };
  }
}
