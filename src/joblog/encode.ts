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
