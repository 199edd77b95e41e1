import type { JoblogRecord } from './records.js';

/**
 * Joblog records as bytes. The records written once or more per job (job, start, done) are
 * written straight into the writer's block by encodeInto(): on a busy two-core machine
 * JSON.stringify costs over a microsecond a record, and a string built from a template still
 * costs its flattening and its UTF-8 conversion. The bytes are what JSON.stringify gives, field
 * for field, for a record whose fields are in the order of its type. Anything else (a string
 * with a character other than printable ASCII, headers of a job, the rarer record types) is
 * left to encodeRecord(), which is JSON.stringify.
 */

/** A record as one line of JSON (with its `\n`): what encodeInto() does not write. */
export function encodeRecord(record: JoblogRecord): string {
  return `${JSON.stringify(record)}\n`;
}

/** Room encodeInto() may need for `record`: a string takes at most 2 bytes a character (`\"`). */
export function roomFor(record: JoblogRecord): number {
  switch (record.t) {
    case 'job':
      return ROOM + 2 * (record.url.length + record.out.length + record.src.length + (record.dir?.length ?? 0) + (record.checksum?.length ?? 0));
    case 'start':
      return ROOM + 2 * (record.ts.length + (record.etag?.length ?? 0) + (record.lastModified?.length ?? 0));
    case 'done':
      return ROOM + 2 * (record.ts.length + record.path.length + (record.sha256?.length ?? 0));
    default:
      return 0;
  }
}

/**
 * Writes `record` into `buf` at `at` (which has roomFor(record) bytes free) and returns where
 * its line ends, or -1 when it is a record for encodeRecord(); bytes written before that point
 * are past the caller's data and are written over later.
 */
export function encodeInto(record: JoblogRecord, buf: Buffer, at: number): number {
  out = buf;
  pos = at;
  ok = true;
  switch (record.t) {
    case 'job':
      if (record.headers !== undefined) return -1;
      put(JOB);
      num(record.seq);
      quoted(URL_KEY, record.url);
      quoted(OUT, record.out);
      quoted(DIR, record.dir);
      quoted(CHECKSUM, record.checksum);
      if (record.named !== undefined) put(NAMED);
      quoted(SRC, record.src);
      break;
    case 'start':
      put(START);
      num(record.seq);
      quoted(TS, record.ts);
      numbered(ATTEMPT, record.attempt);
      numbered(OFFSET, record.offset);
      quoted(ETAG, record.etag);
      quoted(LAST_MODIFIED, record.lastModified);
      break;
    case 'done':
      put(DONE);
      num(record.seq);
      quoted(TS, record.ts);
      numbered(BYTES, record.bytes);
      quoted(PATH, record.path);
      numbered(STATUS, record.status);
      quoted(SHA256, record.sha256);
      break;
    default:
      return -1;
  }
  put(END);
  return ok ? pos : -1;
}

/**
 * The fixed parts: each field's key with the comma before it, and a string's opening quote. A
 * record's, with up to five numbers of at most 16 digits, fit in ROOM.
 */
const JOB = Buffer.from('{"t":"job","seq":');
const START = Buffer.from('{"t":"start","seq":');
const DONE = Buffer.from('{"t":"done","seq":');
const URL_KEY = Buffer.from(',"url":"');
const OUT = Buffer.from(',"out":"');
const DIR = Buffer.from(',"dir":"');
const CHECKSUM = Buffer.from(',"checksum":"');
const NAMED = Buffer.from(',"named":true');
const SRC = Buffer.from(',"src":"');
const TS = Buffer.from(',"ts":"');
const ATTEMPT = Buffer.from(',"attempt":');
const OFFSET = Buffer.from(',"offset":');
const ETAG = Buffer.from(',"etag":"');
const LAST_MODIFIED = Buffer.from(',"lastModified":"');
const BYTES = Buffer.from(',"bytes":');
const PATH = Buffer.from(',"path":"');
const STATUS = Buffer.from(',"status":');
const SHA256 = Buffer.from(',"sha256":"');
const QUOTE = 0x22;
const END = Buffer.from('}\n');
const ROOM = 256;

/**
 * Where encodeInto() writes, and whether the record is still one it can write: module state
 * rather than an object per record, since records are encoded one at a time.
 */
let out: Buffer = Buffer.alloc(0);
let pos = 0;
let ok = true;

function put(part: Buffer): void {
  for (let i = 0; i < part.length; i++) out[pos + i] = part[i]!;
  pos += part.length;
}

/** A string field, `key` then the value in quotes; nothing when the record has none. */
function quoted(key: Buffer, value: string | undefined): void {
  if (value === undefined) return;
  put(key); // with the opening quote
  text(value);
  out[pos++] = QUOTE;
}

/** A number field, `key` then the value; nothing when the record has none. */
function numbered(key: Buffer, value: number | undefined): void {
  if (value === undefined) return;
  put(key);
  num(value);
}

/** A string's characters between its quotes: ASCII from the space up (DEL too), `"` and `\` escaped; else not ok. */
function text(value: string): void {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c > 0x7f) {
      ok = false;
      return;
    }
    if (c === 0x22 || c === 0x5c) out[pos++] = 0x5c;
    out[pos++] = c;
  }
}

/** A safe whole number (0 to 2^53 - 1) in decimal, as JSON.stringify writes it; else not ok. */
function num(n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) {
    ok = false;
    return;
  }
  let width = 1;
  for (let rest = n; rest >= 10; rest = Math.floor(rest / 10)) width++;
  let i = pos + width;
  let rest = n;
  do {
    out[--i] = 48 + (rest % 10);
    rest = Math.floor(rest / 10);
  } while (rest > 0);
  pos += width;
}
