import { readSync } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import type { Validator } from '../http/validator.js';
import { Bitset } from '../utils/bitset.js';
import { ownTypeLetter, scanRecord } from './scan.js';
import type { JobRecord } from './records.js';
import { LineSplitter } from '../utils/line-splitter.js';
import { readChunks } from '../utils/read-chunks.js';

const NEWLINE = 0x0a;

/** Unfinished jobs as two parallel arrays: seq and the byte offset of the job's line. */
export interface PendingJobs {
  seqs: Uint32Array;
  offsets: Float64Array;
}

/** Everything a run or `--status` needs from one pass over the log. */
export interface JoblogState {
  /** Number of job records (seqs are dense from 1, so normally equal to lastSeq). */
  jobs: number;
  /** Highest seq of a job record: the next job gets lastSeq + 1. */
  lastSeq: number;
  done: Bitset;
  /** Jobs whose last outcome is a `fail` with `final: true`. */
  failed: Bitset;
  doneCount: number;
  failedCount: number;
  /** Bytes of the files of jobs that are done. */
  bytes: number;
  /** Whether the inputs of the last run that had inputs were read to the end (an `eof` record). */
  resolved: boolean;
  /** Lines that are not valid records (reported, never fatal). */
  badLines: number;
  /** Bytes after the last `\n` (a torn write, or a line still being written by a live run). */
  tornBytes: number;
  /** Size of the log in bytes (up to the last complete line). */
  size: number;
  pending: PendingJobs;
  /** Validators of `.part` files of unfinished jobs (from their last `start`), for Range resume. */
  resumable: Map<number, Validator>;
  /** Jobs with a `start` and no outcome after it: running when the log was last written. */
  runningCount: number;
  /** Jobs failed for good, with the reason of their last failure (when `collectFailures`). */
  failures: FailedJobs;
}

/** Failed jobs as parallel arrays; `reasons[reason[i]]` is the last failure of `seqs[i]`. */
export interface FailedJobs {
  seqs: Uint32Array;
  offsets: Float64Array;
  reason: Uint32Array;
  reasons: Array<{ code: string; error: string }>;
}

export interface ReadOptions {
  /** Count jobs that failed for good as pending, so that this run tries them again. */
  retryFailed?: boolean;
  /** Keep the reason of every final failure (for `--status`). */
  collectFailures?: boolean;
}

/** Reads the whole log once. A log that does not exist reads as empty. */
export async function readJoblog(path: string, options: ReadOptions = {}): Promise<JoblogState> {
  const state: JoblogState = {
    jobs: 0,
    lastSeq: 0,
    done: new Bitset(),
    failed: new Bitset(),
    doneCount: 0,
    failedCount: 0,
    bytes: 0,
    resolved: false,
    badLines: 0,
    tornBytes: 0,
    size: 0,
    pending: { seqs: new Uint32Array(0), offsets: new Float64Array(0) },
    resumable: new Map(),
    runningCount: 0,
    failures: { seqs: new Uint32Array(0), offsets: new Float64Array(0), reason: new Uint32Array(0), reasons: [] },
  };
  const running = new Bitset();
  // Final failures: seq -> index of its reason (only with collectFailures).
  const failReason = new Map<number, number>();
  const reasonIndex = new Map<string, number>();
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (!info) return state;

  // Per seq: 1 + offset of its job line (0: no job line seen), and the bytes of its last `done`.
  // 4 bytes a job each where they fit: offsets of a log under 4 GiB, file sizes under 4 GiB
  // (larger sizes go to a small map). At ten million jobs that is 80 MB instead of 160.
  const wide = info.size >= 0xffffffff;
  let offsets: Offsets = wide ? new Float64Array(1024) : new Uint32Array(1024);
  let doneBytes = new Uint32Array(1024);
  const bigBytes = new Map<number, number>();
  const bytesOf = (seq: number): number => (doneBytes[seq] === 0xffffffff ? (bigBytes.get(seq) ?? 0) : doneBytes[seq]!);
  const undone = (seq: number): void => {
    startAt.delete(seq);
    if (running.delete(seq)) state.runningCount--;
    if (state.done.delete(seq)) {
      state.doneCount--;
      state.bytes -= bytesOf(seq);
    }
  };
  // Unfinished jobs whose last start names a version: the offset of that start line, read back
  // at the end (only these few need the version itself).
  const startAt = new Map<number, number>();
  const visit = (buf: Buffer, start: number, end: number, offset: number): void => {
    let scanned: LooseRecord | undefined = scanRecord(buf, start, end, false);
    // The reason of a final failure (code, message) is only in the full record.
    if (scanned?.t === 'fail' && scanned.final === true && options.collectFailures) scanned = undefined;
    const record = scanned ?? parseRecord(buf.toString('utf8', start, end));
    if (!record) {
      state.badLines++;
      return;
    }
    switch (record.t) {
      case 'run':
        if (Array.isArray(record.inputs) && record.inputs.length > 0) state.resolved = false;
        return;
      case 'eof':
        state.resolved = true;
        return;
      case 'job': {
        const seq = record.seq;
        if (seq >= offsets.length) {
          const size = Math.max(seq + 1, offsets.length * 2);
          offsets = grow(offsets, size);
          doneBytes = grow(doneBytes, size);
        }
        if (offsets[seq] !== 0) return; // a repeated seq: the first job line stands
        offsets[seq] = offset + 1;
        state.jobs++;
        if (seq > state.lastSeq) state.lastSeq = seq;
        return;
      }
      case 'done': {
        const seq = record.seq;
        // An outcome of a job whose line is unreadable cannot be acted on; counting it would
        // make the totals disagree with the jobs that exist.
        if (!(offsets[seq]! > 0)) return;
        undone(seq);
        state.done.add(seq);
        state.doneCount++;
        const bytes = typeof record.bytes === 'number' ? record.bytes : 0;
        doneBytes[seq] = Math.min(bytes, 0xffffffff);
        if (bytes >= 0xffffffff) bigBytes.set(seq, bytes);
        state.bytes += bytes;
        if (state.failed.delete(seq)) state.failedCount--;
        return;
      }
      case 'fail': {
        const seq = record.seq;
        if (!(offsets[seq]! > 0)) return;
        const validatorAt = startAt.get(seq);
        undone(seq);
        if (record.final === true) {
          if (state.failed.add(seq)) state.failedCount++;
          if (options.collectFailures) {
            const key = `${String(record.code)}\u0000${String(record.error)}`;
            let index = reasonIndex.get(key);
            if (index === undefined) {
              index = state.failures.reasons.push({ code: String(record.code), error: String(record.error) }) - 1;
              reasonIndex.set(key, index);
            }
            failReason.set(seq, index);
          }
        } else {
          if (state.failed.delete(seq)) state.failedCount--;
          // A failed attempt leaves its .part behind: still resumable.
          if (validatorAt !== undefined) startAt.set(seq, validatorAt);
        }
        return;
      }
      case 'start': {
        if (!(offsets[record.seq]! > 0)) return;
        if (running.add(record.seq)) state.runningCount++;
        const named = record.hasValidator ?? (typeof record.etag === 'string' || typeof record.lastModified === 'string');
        if (named) startAt.set(record.seq, offset);
        else startAt.delete(record.seq); // this attempt's .part has no version: start over
        return;
      }
      default:
        // Record types of later versions change nothing a pass needs.
        return;
    }
  };

  const { size, torn } = await forEachLine(path, visit);
  state.size = size;
  state.tornBytes = torn;
  state.resumable = await readValidators(path, startAt);
  if (options.collectFailures) state.failures = collectFailures(state, offsets, failReason);
  if (options.retryFailed) {
    state.failed = new Bitset();
    state.failedCount = 0;
  }
  state.pending = collectPending(state, offsets);
  return state;
}

/** Fields every record type may carry; the parser checks only what the pass relies on. */
interface LooseRecord {
  t: string;
  seq: number;
  hasValidator?: boolean;
  bytes?: unknown;
  final?: unknown;
  code?: unknown;
  error?: unknown;
  inputs?: unknown;
  etag?: unknown;
  lastModified?: unknown;
}

function parseRecord(line: string): LooseRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as LooseRecord;
  if (typeof record.t !== 'string') return undefined;
  if (record.t === 'run' || record.t === 'eof') return record;
  if (!Number.isInteger(record.seq) || record.seq < 1) return undefined;
  if (record.t === 'job' && typeof (value as JobRecord).url !== 'string') return undefined;
  return record;
}

/** Per-seq job line offsets (+1; 0 means no job line). */
type Offsets = Uint32Array | Float64Array;

function grow<T extends Offsets>(array: T, size: number): T {
  const grown = new (array.constructor as new (size: number) => T)(size);
  grown.set(array);
  return grown;
}

function collectFailures(state: JoblogState, offsets: Offsets, failReason: Map<number, number>): FailedJobs {
  const seqs = new Uint32Array(state.failedCount);
  const at = new Float64Array(state.failedCount);
  const reason = new Uint32Array(state.failedCount);
  let n = 0;
  for (const [seq, index] of failReason) {
    if (!state.failed.has(seq)) continue; // a later run got it done
    seqs[n] = seq;
    at[n] = offsets[seq]! - 1;
    reason[n] = index;
    n++;
  }
  return { seqs: seqs.subarray(0, n), offsets: at.subarray(0, n), reason: reason.subarray(0, n), reasons: state.failures.reasons };
}

function collectPending(state: JoblogState, offsets: Offsets): PendingJobs {
  // Outcomes are only counted for seqs with a job line, so this is exactly the pending count.
  const count = state.jobs - state.doneCount - state.failedCount;
  const seqs = new Uint32Array(count);
  const at = new Float64Array(count);
  let n = 0;
  for (let seq = 1; seq <= state.lastSeq && n < count; seq++) {
    if (state.done.has(seq) || state.failed.has(seq)) continue;
    const offset = offsets[seq] ?? 0;
    if (offset === 0) continue; // no job line for this seq: nothing to run
    seqs[n] = seq;
    at[n] = offset - 1;
    n++;
  }
  return { seqs: seqs.subarray(0, n), offsets: at.subarray(0, n) };
}

const JOB_LETTER = 0x6a; // j

/**
 * Every job record of the log up to `size` bytes, with its offset: a second, lighter pass for
 * the indexes a run with inputs needs (URLs, names), so that pending jobs can start first. The
 * record passed to `onJob` may be reused for the next line: read it, do not keep it.
 */
export async function forEachJob(path: string, size: number, onJob: (job: JobRecord, offset: number) => void): Promise<void> {
  await forEachLine(
    path,
    (buf, start, end, offset) => {
      // dl's own lines name their type up front (`{"t":"job"`): skip the other types unparsed.
      const type = ownTypeLetter(buf, start);
      if (type !== undefined && type !== JOB_LETTER) return;
      const record = (scanRecord(buf, start, end, true) as JobRecord | undefined) ?? (parseRecord(buf.toString('utf8', start, end)) as JobRecord | undefined);
      if (record?.t === 'job') onJob(record, offset);
    },
    size,
  );
}

/** The versions named by the given start lines (seq -> byte offset of its last start). */
async function readValidators(path: string, startAt: Map<number, number>): Promise<Map<number, Validator>> {
  const validators = new Map<number, Validator>();
  if (startAt.size === 0) return validators;
  const handle = await open(path, 'r');
  try {
    for (const [seq, offset] of startAt) {
      const record = parseRecord(readLineAt(handle, offset)) as (LooseRecord & Validator) | undefined;
      if (!record) continue;
      const { etag, lastModified } = record;
      validators.set(seq, {
        ...(typeof etag === 'string' ? { etag } : {}),
        ...(typeof lastModified === 'string' ? { lastModified } : {}),
      });
    }
  } finally {
    await handle.close();
  }
  return validators;
}

/** Calls `visit` for every complete line; returns the size up to the last `\n` and the torn rest. */
async function forEachLine(
  path: string,
  visit: (buf: Buffer, start: number, end: number, offset: number) => void,
  size?: number,
): Promise<{ size: number; torn: number }> {
  if (size === 0) return { size: 0, torn: 0 };
  const splitter = new LineSplitter();
  const visitLine = (buf: Buffer, start: number, end: number, offset: number): void => {
    if (end > start) visit(buf, start, end, offset);
  };
  for await (const chunk of readChunks(path, 4 << 20, size)) splitter.push(chunk, visitLine);
  return { size: splitter.restOffset, torn: splitter.rest?.length ?? 0 };
}

/** Reads back the job line that starts at `offset` (how a pending job gets its details again). */
export async function readJobAt(handle: FileHandle, offset: number): Promise<JobRecord> {
  const record = JSON.parse(readLineAt(handle, offset)) as JobRecord;
  if (record.t !== 'job') throw new Error(`no job record at offset ${offset}`);
  return record;
}

/**
 * The line that starts at `offset`, without its `\n`. Read synchronously: the log has just been
 * read through (or written) and is in the page cache, where a read takes microseconds, and a
 * thread-pool round trip per parked job read back cost more than the read (a run of 100,000
 * jobs of one host reads most of them back).
 */
function readLineAt(handle: FileHandle, offset: number): string {
  for (let buf = LINE_BUFFER; ; buf = Buffer.allocUnsafeSlow(buf.length * 4)) {
    const bytesRead = readSync(handle.fd, buf, 0, buf.length, offset);
    const nl = buf.indexOf(NEWLINE);
    // Bytes past bytesRead are an earlier line's.
    if (nl !== -1 && nl < bytesRead) return buf.toString('utf8', 0, nl);
    if (bytesRead < buf.length) throw new Error(`line at offset ${offset} is incomplete`);
    // A longer line: a bigger buffer for it alone, not kept for the short lines after it.
  }
}

/**
 * One buffer for every line read back (each is decoded before the next read): a fresh 4 KiB per
 * parked job read back was memory outside V8's heap, freed only by a full collection.
 */
const LINE_BUFFER = Buffer.allocUnsafeSlow(4096);

export async function openForReading(path: string): Promise<FileHandle> {
  return open(path, 'r');
}
