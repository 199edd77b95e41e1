/**
 * Joblog v1 record types: the public contract described in docs/joblog.md.
 * Every record is one JSON object on one line; `t` comes first and, where there is one, `seq`
 * second, so that a reader can recognise a line from its first bytes.
 */

export const JOBLOG_VERSION = 1;

export interface RunRecord {
  t: 'run';
  v: typeof JOBLOG_VERSION;
  ts: string;
  pid: number;
  version: string;
  /** The inputs of this run (file paths, `-` for stdin); empty when the run only resumes. */
  inputs: string[];
  options: Record<string, unknown>;
}

export interface JobRecord {
  t: 'job';
  seq: number;
  url: string;
  /** Path of the final file, relative to the destination folder, always with `/`. */
  out: string;
  dir?: string;
  checksum?: string;
  headers?: Record<string, string>;
  /** The input named the file (out= or dir=): part of what makes two lines the same job. */
  named?: true;
  /** Where the job came from: `file:line`, or `stdin:line`. */
  src: string;
}

export interface EofRecord {
  t: 'eof';
  ts: string;
  jobs: number;
}

export interface StartRecord {
  t: 'start';
  seq: number;
  ts: string;
  attempt: number;
  /** Bytes of the `.part` file this attempt continues (absent: it starts from 0). */
  offset?: number;
  /** Version of what is written to the `.part` file, for resuming it with If-Range. */
  etag?: string;
  lastModified?: string;
}

export interface DoneRecord {
  t: 'done';
  seq: number;
  ts: string;
  bytes: number;
  path: string;
  status: number;
  sha256?: string;
}

export interface FailRecord {
  t: 'fail';
  seq: number;
  ts: string;
  attempt: number;
  final: boolean;
  code: string;
  error: string;
}

export type JoblogRecord = RunRecord | JobRecord | EofRecord | StartRecord | DoneRecord | FailRecord;

/**
 * The job fields that identify a job: the same URL and the same explicit name are the same job.
 * A URL is taken without an empty fragment, which logs written before it was dropped from input
 * URLs (`a.bin#`) still hold.
 */
export function jobKey(url: string, explicitOut: string | undefined): string {
  const key = url.endsWith('#') ? url.slice(0, -1) : url;
  return explicitOut === undefined ? key : `${key}\u0000${explicitOut}`;
}

let lastMs = 0;
let lastIso = '';

/**
 * The current time as a record's `ts`. Records come thousands a second in a bulk run, many in
 * the same millisecond: the string of a millisecond is made once.
 */
export function now(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}
