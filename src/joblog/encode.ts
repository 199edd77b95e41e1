import type { JoblogRecord } from './records.js';

/** Characters JSON must escape, and surrogates (which JSON.stringify escapes when lone). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** A string as a JSON value: quoted as it is when nothing in it needs escaping. */
function str(value: string): string {
  return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`;
}

/**
 * A record as one line of JSON (with its `\n`). The records written once or more per job (job,
 * start, done) are built from a template: on a busy two-core machine JSON.stringify costs over a
 * microsecond a record. The output is what JSON.stringify gives, field for field, for a record
 * whose fields are in the order of its type; job and done records with optional fields beyond
 * the common ones take JSON.stringify.
 */
export function encodeRecord(record: JoblogRecord): string {
  switch (record.t) {
    case 'job':
      if (record.dir !== undefined || record.checksum !== undefined || record.headers !== undefined || record.named !== undefined) break;
      // Not even a URL as the parser writes it goes in unchecked: it percent-encodes quotes,
      // control characters and non-ASCII, but keeps a backslash in the query (`?p=C:\tmp`).
      return `{"t":"job","seq":${record.seq},"url":${str(record.url)},"out":${str(record.out)},"src":${str(record.src)}}\n`;
    case 'done':
      if (record.sha256 !== undefined) break;
      return `{"t":"done","seq":${record.seq},"ts":"${record.ts}","bytes":${record.bytes},"path":${str(record.path)},"status":${record.status}}\n`;
    case 'start':
      return `{"t":"start","seq":${record.seq},"ts":"${record.ts}","attempt":${record.attempt}${record.offset === undefined ? '' : `,"offset":${record.offset}`}${record.etag === undefined ? '' : `,"etag":${str(record.etag)}`}${record.lastModified === undefined ? '' : `,"lastModified":${str(record.lastModified)}`}}\n`;
    default:
      break;
  }
  return `${JSON.stringify(record)}\n`;
}

/** The fixed parts of the records encodeInto() writes, as bytes. */
const JOB_SEQ = Buffer.from('{"t":"job","seq":');
const JOB_URL = Buffer.from(',"url":"');
const JOB_OUT = Buffer.from('","out":"');
const JOB_SRC = Buffer.from('","src":"');
const START_SEQ = Buffer.from('{"t":"start","seq":');
const DONE_SEQ = Buffer.from('{"t":"done","seq":');
const TS = Buffer.from(',"ts":"');
const ATTEMPT = Buffer.from('","attempt":');
const BYTES = Buffer.from('","bytes":');
const PATH = Buffer.from(',"path":"');
const STATUS = Buffer.from('","status":');
const QUOTE_END = Buffer.from('"}\n');
const END = Buffer.from('}\n');

/**
 * Room encodeInto() needs for `record`: its strings, the fixed parts and five numbers of at most
 * 16 digits. Less than that, and it is not tried.
 */
export function roomFor(record: JoblogRecord): number {
  switch (record.t) {
    case 'job':
      return 128 + record.url.length + record.out.length + record.src.length;
    case 'start':
      return 128 + record.ts.length;
    case 'done':
      return 128 + record.ts.length + record.path.length;
    default:
      return 0;
  }
}

/**
 * The common job, start and done records written straight into `buf` at `at`, byte for byte
 * what encodeRecord() gives; returns where the line ends, or -1 when the record is not one this
 * writes (an optional field, a string with a character JSON escapes or that is not ASCII, a
 * number that is not a whole one): the caller then takes encodeRecord(). No string is built or
 * flattened, and no UTF-8 conversion is made; the caller checked the room (roomFor).
 */
export function encodeInto(record: JoblogRecord, buf: Buffer, at: number): number {
  let end: number;
  switch (record.t) {
    case 'job':
      if (record.dir !== undefined || record.checksum !== undefined || record.headers !== undefined || record.named !== undefined) return -1;
      end = bytes(buf, at, JOB_SEQ);
      if ((end = digits(buf, end, record.seq)) < 0) return -1;
      end = bytes(buf, end, JOB_URL);
      if ((end = ascii(buf, end, record.url)) < 0) return -1;
      end = bytes(buf, end, JOB_OUT);
      if ((end = ascii(buf, end, record.out)) < 0) return -1;
      end = bytes(buf, end, JOB_SRC);
      if ((end = ascii(buf, end, record.src)) < 0) return -1;
      return bytes(buf, end, QUOTE_END);
    case 'start':
      if (record.offset !== undefined || record.etag !== undefined || record.lastModified !== undefined) return -1;
      end = bytes(buf, at, START_SEQ);
      if ((end = digits(buf, end, record.seq)) < 0) return -1;
      end = bytes(buf, end, TS);
      if ((end = ascii(buf, end, record.ts)) < 0) return -1;
      end = bytes(buf, end, ATTEMPT);
      if ((end = digits(buf, end, record.attempt)) < 0) return -1;
      return bytes(buf, end, END);
    case 'done':
      if (record.sha256 !== undefined) return -1;
      end = bytes(buf, at, DONE_SEQ);
      if ((end = digits(buf, end, record.seq)) < 0) return -1;
      end = bytes(buf, end, TS);
      if ((end = ascii(buf, end, record.ts)) < 0) return -1;
      end = bytes(buf, end, BYTES);
      if ((end = digits(buf, end, record.bytes)) < 0) return -1;
      end = bytes(buf, end, PATH);
      if ((end = ascii(buf, end, record.path)) < 0) return -1;
      end = bytes(buf, end, STATUS);
      if ((end = digits(buf, end, record.status)) < 0) return -1;
      return bytes(buf, end, END);
    default:
      return -1;
  }
}

function bytes(buf: Buffer, at: number, part: Buffer): number {
  for (let i = 0; i < part.length; i++) buf[at + i] = part[i]!;
  return at + part.length;
}

/** A string JSON keeps as it is and UTF-8 writes a byte a character (printable ASCII but `"` and `\`), or -1. */
function ascii(buf: Buffer, at: number, text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return -1;
    buf[at + i] = c;
  }
  return at + text.length;
}

/** A whole number from 0 to 2^53 in decimal, as `${n}` writes it, or -1. */
function digits(buf: Buffer, at: number, n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) return -1;
  let width = 1;
  for (let rest = n; rest >= 10; rest = Math.floor(rest / 10)) width++;
  let i = at + width;
  let rest = n;
  do {
    buf[--i] = 48 + (rest % 10);
    rest = Math.floor(rest / 10);
  } while (rest > 0);
  return at + width;
}
