/**
 * Reads the records dl writes without JSON.parse: their first bytes are fixed
 * (`{"t":"done","seq":12,...`, see encode.ts), so type, seq and the few fields a pass needs can be
 * taken straight from the bytes. Anything that does not look exactly like that (records of other
 * writers, escaped strings, unknown types, a line cut short) returns undefined and goes through
 * JSON.parse instead. Plain index loops: Buffer methods cost more than the bytes they look at.
 */

/** What a pass over the log needs from one line. */
export interface ScannedRecord {
  t: string;
  seq: number;
  /** done: the file's size. */
  bytes?: number;
  /** fail: whether it is final. */
  final?: boolean;
  /** start: whether the line names a version (etag or lastModified) to resume with. */
  hasValidator?: boolean;
  /** job, when asked for. */
  url?: string;
  out?: string;
}

const bytesOf = (text: string): Uint8Array => Buffer.from(text, 'latin1');
/** The prefix of each type, by the byte that tells them apart (`{"t":"` is 6 bytes). */
const TYPES = new Map<number, [string, Uint8Array]>(
  ['job', 'done', 'fail', 'start'].map((t) => [t.charCodeAt(0), [t, bytesOf(`{"t":"${t}","seq":`)]]),
);
const TYPE_PREFIX = bytesOf('{"t":"');

/**
 * The first letter of the type of a line written as dl writes it (`{"t":"job"...`), or undefined
 * for a line written any other way (spaced, keys in another order), which only JSON.parse can tell.
 */
export function ownTypeLetter(buf: Buffer, start: number): number | undefined {
  return matchAt(buf, start, TYPE_PREFIX) ? buf[start + TYPE_PREFIX.length] : undefined;
}

/** `,"ts":"` + a 24-character ISO date + `",`: what follows seq in done and start records. */
const TS_SPAN = 7 + 24 + 2;
const AFTER_TS_ATTEMPT = bytesOf('"attempt":');
const BYTES = bytesOf('"bytes":');
const FINAL_TRUE = bytesOf('"final":true');
const ETAG = bytesOf('"etag":');
const LAST_MODIFIED = bytesOf('"lastModified":');
const URL_FIELD = bytesOf(',"url":"');
const OUT_FIELD = bytesOf(',"out":"');
/** A job the input named: its key needs the whole record (JSON.parse). */
const NAMED = bytesOf('"named":');
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const CLOSE = 0x7d;
const COMMA = 0x2c;

const scratch: ScannedRecord = { t: '', seq: 0 };

/**
 * The record on the line [start, end) of `buf`, or undefined when it is not one of dl's own in
 * the usual form. The object returned is reused by the next call: read it before scanning on.
 */
export function scanRecord(buf: Buffer, start: number, end: number, withJobFields: boolean): ScannedRecord | undefined {
  // A line cut short (a torn write in the middle of the log) is left to JSON.parse to reject.
  if (end - start < 20 || buf[end - 1] !== CLOSE) return undefined;
  const entry = TYPES.get(buf[start + 6]!);
  if (!entry || !matchAt(buf, start, entry[1])) return undefined;
  const type = entry[0];
  let at = start + entry[1].length;
  let seq = 0;
  const digitsFrom = at;
  for (; at < end && buf[at]! >= 0x30 && buf[at]! <= 0x39; at++) seq = seq * 10 + (buf[at]! - 0x30);
  if (at === digitsFrom || at - digitsFrom > 15 || seq < 1 || (buf[at] !== COMMA && buf[at] !== CLOSE)) return undefined;
  // One object reused for every line: the caller reads it before scanning the next.
  const record = scratch;
  record.t = type;
  record.seq = seq;
  record.bytes = undefined;
  record.final = undefined;
  record.hasValidator = undefined;
  record.url = undefined;
  record.out = undefined;
  switch (type) {
    case 'done': {
      // dl writes `"bytes":` right after the date; other writers' field orders are searched.
      let i = matchAt(buf, at + TS_SPAN, BYTES) ? at + TS_SPAN : find(buf, at, end, BYTES);
      if (i === -1) return undefined;
      i += BYTES.length;
      const from = i;
      let bytes = 0;
      for (; i < end && buf[i]! >= 0x30 && buf[i]! <= 0x39; i++) bytes = bytes * 10 + (buf[i]! - 0x30);
      if (i === from) return undefined;
      record.bytes = bytes;
      return record;
    }
    case 'fail':
      record.final = find(buf, at, end, FINAL_TRUE) !== -1;
      return record;
    case 'start': {
      // dl's start with nothing after the attempt number (`...,"attempt":1}`) names no version.
      const attempt = at + TS_SPAN + AFTER_TS_ATTEMPT.length;
      if (matchAt(buf, at + TS_SPAN, AFTER_TS_ATTEMPT) && end - attempt <= 4) {
        let i = attempt;
        while (i < end - 1 && buf[i]! >= 0x30 && buf[i]! <= 0x39) i++;
        if (i === end - 1) {
          record.hasValidator = false;
          return record;
        }
      }
      record.hasValidator = find(buf, at, end, ETAG) !== -1 || find(buf, at, end, LAST_MODIFIED) !== -1;
      return record;
    }
    default: {
      if (!withJobFields) return record;
      if (find(buf, at, end, NAMED) !== -1) return undefined;
      const url = plainString(buf, find(buf, at, end, URL_FIELD), URL_FIELD.length, end);
      const out = url === undefined ? undefined : plainString(buf, find(buf, at, end, OUT_FIELD), OUT_FIELD.length, end);
      if (url === undefined || out === undefined) return undefined;
      record.url = url;
      record.out = out;
      return record;
    }
  }
}

function matchAt(buf: Buffer, at: number, pattern: Uint8Array): boolean {
  for (let i = 0; i < pattern.length; i++) if (buf[at + i] !== pattern[i]) return false;
  return true;
}

/** First position of `pattern` in [from, end), or -1. */
function find(buf: Buffer, from: number, end: number, pattern: Uint8Array): number {
  const first = pattern[0];
  for (let i = from; i + pattern.length <= end; i++) if (buf[i] === first && matchAt(buf, i, pattern)) return i;
  return -1;
}

/** The string value that starts after a field at `at`, when it has no escapes; undefined otherwise. */
function plainString(buf: Buffer, at: number, fieldLength: number, end: number): string | undefined {
  if (at === -1) return undefined;
  const from = at + fieldLength;
  for (let i = from; i < end; i++) {
    const c = buf[i];
    if (c === QUOTE) return buf.toString('utf8', from, i);
    if (c === BACKSLASH) return undefined;
  }
  return undefined;
}
