import { HEADER_NAME } from '../header-line.js';
import { HttpError, otherSideClosed } from './http-error.js';

/** Response header fields by lower-case name, as undici hands them to a dispatch handler. */
export type ResponseHeaders = Record<string, string | string[]>;

/** What a parser reports, in order: heads (informational ones first), body pieces, the end. */
export interface ResponseEvents {
  /**
   * A complete head, its field names in lower case (a repeated field's values in an array).
   * Informational answers (1xx) come before the final one, body-less.
   */
  onHead(statusCode: number, statusText: string, headers: ResponseHeaders): void;
  /** A piece of the body: a view of the buffer given to `feed`, valid during the call only. */
  onBody(chunk: Buffer): void;
  /** The final response is complete. */
  onEnd(): void;
}

/** A head larger than this is refused, as undici and Node refuse theirs. */
const MAX_HEAD_BYTES = 64 * 1024;
/** A chunk-size line or a trailer line larger than this is refused. */
const MAX_LINE_BYTES = 8 * 1024;
/** Field names a parser remembers (see #fieldKeys). */
const FIELD_KEYS_KEPT = 256;
const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/;
const CR = 0x0d;
const LF = 0x0a;

type State = 'head' | 'length' | 'close' | 'chunk-size' | 'chunk-data' | 'chunk-end' | 'trailers' | 'done';

/**
 * An HTTP/1.1 response parser for dl's own connections (http/h1/connection.ts): status line,
 * header fields, and a body framed by Content-Length, by the chunked coding or by the end of the
 * connection. Strict where leniency could cut a body short or run it into the next response:
 * a Content-Length that is not digits, Content-Lengths that differ, Transfer-Encoding next to
 * Content-Length, a chunk size that is not hex, folded header lines and oversized heads are
 * errors (`HttpError`, code HPE_INVALID_CONSTANT, which dl treats as a retryable protocol error).
 */
export class ResponseParser {
  #state: State = 'head';
  /** Bytes of a head, or of a chunk-size or trailer line, that began in an earlier piece. */
  readonly #held = new HeldBytes();
  #left = 0;
  #noBody = false;
  /** The response ended within the piece being fed: onEnd is called once the piece is done. */
  #ended = false;
  /** Whether the connection may carry another request after this response. */
  keepAlive = false;
  /**
   * Field names this connection's server has sent, checked and in lower case. A server sends the
   * same few names in every response; checking and lower-casing each anew was most of the cost
   * of parsing a head. Bounded, so that a server inventing names cannot grow it.
   */
  readonly #fieldKeys = new Map<string, string>();

  constructor(private readonly events: ResponseEvents) {}

  /** Readies the parser for the response to a new request; a HEAD answer has no body. */
  expect(method: string): void {
    this.#state = 'head';
    this.#held.clear();
    this.#noBody = method === 'HEAD';
    this.keepAlive = false;
  }

  /** Whether the body runs until the connection ends (no length was given). */
  get endsWithConnection(): boolean {
    return this.#state === 'close';
  }

  /**
   * Parses `buf[start, end)`. Bytes past the end of the response are dropped and make the
   * connection unfit for another request; onEnd is called once the whole piece is parsed, since
   * it may send the next request on the connection, whose answer those bytes are not.
   */
  feed(buf: Buffer, start: number, end: number): void {
    this.#ended = false;
    let at = start;
    while (at < end) {
      switch (this.#state) {
        case 'head':
          at = this.#head(buf, at, end);
          break;
        case 'length':
          at = this.#counted(buf, at, end);
          if (this.#left === 0) this.#finish();
          break;
        case 'close':
          this.events.onBody(buf.subarray(at, end));
          at = end;
          break;
        case 'chunk-size':
          at = this.#line(buf, at, end, this.#onChunkSize);
          break;
        case 'chunk-data':
          at = this.#counted(buf, at, end);
          if (this.#left === 0) this.#state = 'chunk-end';
          break;
        case 'chunk-end':
          at = this.#line(buf, at, end, this.#onChunkEnd);
          break;
        case 'trailers':
          at = this.#line(buf, at, end, this.#onTrailer);
          break;
        case 'done':
          // Bytes past a complete answer (a stray CRLF, say): the answer stands, as undici
          // lets it, but the connection cannot be trusted with another request.
          this.keepAlive = false;
          at = end;
          break;
      }
    }
    if (this.#ended) {
      this.#ended = false;
      this.events.onEnd();
    }
  }

  /** Bytes still to come of a body framed by Content-Length; 0 for any other framing. */
  get countedLeft(): number {
    return this.#state === 'length' ? this.#left : 0;
  }

  /**
   * `n` bytes of a Content-Length body went past the parser, straight from the socket to a file
   * (see native-pump.ts): counted as received, and the end of the response when they were the
   * last. Called between two reads, never within feed().
   */
  skipCounted(n: number): void {
    this.#left -= n;
    if (this.#left > 0) return;
    this.#state = 'done';
    this.events.onEnd();
  }

  /** The connection ended: the end of a body that runs until then, else a cut response. */
  eof(): void {
    if (this.#state === 'close') {
      this.#state = 'done';
      return this.events.onEnd();
    }
    if (this.#state !== 'done') throw otherSideClosed();
  }

  /** Body bytes of a known count (a Content-Length, or a chunk's size): up to what is left. */
  #counted(buf: Buffer, at: number, end: number): number {
    const n = Math.min(this.#left, end - at);
    this.#left -= n;
    this.events.onBody(buf.subarray(at, at + n));
    return at + n;
  }

  #finish(): void {
    this.#state = 'done';
    this.#ended = true;
  }

  /** Collects the head up to its empty line, then parses it; returns where the body starts. */
  #head(buf: Buffer, at: number, end: number): number {
    const held = this.#held.length;
    let data = buf;
    let from = at;
    let dataEnd = end;
    if (held > 0) {
      this.#held.append(buf, at, end);
      data = this.#held.bytes;
      from = 0;
      dataEnd = data.length;
    }
    // The empty line may straddle the pieces: search from just before where the new bytes begin.
    const headEnd = data.indexOf('\r\n\r\n', held > 0 ? Math.max(0, held - 3) : at);
    if (headEnd === -1 || headEnd + 4 > dataEnd) {
      // Lines ended by a bare LF would never meet the CRLF CRLF looked for: refused at once.
      // (What follows `end` in the buffer is left from earlier reads: a match must end before it.)
      const bareLf = data.indexOf('\n\n', held > 0 ? Math.max(0, held - 1) : at);
      if (bareLf !== -1 && bareLf + 2 <= dataEnd) throw invalid('line without CRLF');
      if (dataEnd - from > MAX_HEAD_BYTES) throw new HttpError('UND_ERR_HEADERS_OVERFLOW', 'response head too large');
      if (held === 0) this.#held.append(buf, at, end);
      return end;
    }
    if (headEnd - from > MAX_HEAD_BYTES) throw new HttpError('UND_ERR_HEADERS_OVERFLOW', 'response head too large');
    const text = data.toString('latin1', from, headEnd);
    this.#held.clear();
    this.#parseHead(text);
    return held > 0 ? at + headEnd + 4 - held : headEnd + 4;
  }

  #parseHead(text: string): void {
    let lineEnd = text.indexOf('\r\n');
    if (lineEnd === -1) lineEnd = text.length;
    const { statusCode, statusText, http10 } = statusLine(text, lineEnd);
    const headers: ResponseHeaders = {};
    let lengths: string[] | undefined;
    let codings: string | undefined;
    let close = http10;
    while (lineEnd < text.length) {
      const lineStart = lineEnd + 2;
      lineEnd = text.indexOf('\r\n', lineStart);
      if (lineEnd === -1) lineEnd = text.length;
      const colon = text.indexOf(':', lineStart);
      if (colon <= lineStart || colon >= lineEnd) throw invalid('invalid header line');
      const key = this.#fieldKey(text.slice(lineStart, colon));
      const value = withoutOws(text, colon + 1, lineEnd);
      // What the object has under the key already: a value of this head, or for `constructor`
      // or `__proto__`, Object.prototype's, which is written over (or, for `__proto__`, ignored).
      const had = headers[key];
      if (typeof had === 'string') headers[key] = [had, value];
      else if (Array.isArray(had)) had.push(value);
      else headers[key] = value;
      switch (key) {
        case 'content-length':
          lengths ??= [];
          if (value.includes(',')) for (const part of value.split(',')) lengths.push(part.trim());
          else lengths.push(value);
          break;
        case 'transfer-encoding':
          codings = codings ? `${codings},${value}` : value;
          break;
        case 'connection':
          if (/(?:^|,)\s*close\s*(?:,|$)/i.test(value)) close = true;
          else if (http10 && /(?:^|,)\s*keep-alive\s*(?:,|$)/i.test(value)) close = false;
          break;
      }
    }
    if (statusCode < 200) {
      if (statusCode === 101) throw invalid('unexpected protocol switch');
      this.events.onHead(statusCode, statusText, headers);
      return; // the final head follows
    }
    this.keepAlive = !close;
    this.events.onHead(statusCode, statusText, headers);
    if (this.#noBody || statusCode === 204 || statusCode === 304) return this.#finish();
    if (codings !== undefined) {
      if (lengths) throw invalid('both Transfer-Encoding and Content-Length');
      const last = codings.split(',').at(-1)!.trim().toLowerCase();
      if (last === 'chunked') {
        this.#state = 'chunk-size';
      } else {
        this.#state = 'close';
        this.keepAlive = false;
      }
      return;
    }
    if (lengths) {
      const first = lengths[0]!;
      if (!/^\d{1,15}$/.test(first) || lengths.some((v) => v !== first)) throw invalid('invalid Content-Length');
      this.#left = Number(first);
      if (this.#left === 0) return this.#finish();
      this.#state = 'length';
      return;
    }
    this.#state = 'close';
    this.keepAlive = false;
  }

  /** The lower-case key of a field name, which must be a token. */
  #fieldKey(name: string): string {
    const known = this.#fieldKeys.get(name);
    if (known !== undefined) return known;
    if (!HEADER_NAME.test(name)) throw invalid('invalid header name');
    const key = name.toLowerCase();
    if (this.#fieldKeys.size < FIELD_KEYS_KEPT) this.#fieldKeys.set(name, key);
    return key;
  }

  // What each line of the chunked coding means: functions made once, not for every piece fed.
  readonly #onChunkSize = (line: string): void => {
    const semicolon = line.indexOf(';');
    const size = (semicolon === -1 ? line : line.slice(0, semicolon)).trim();
    if (!/^[0-9A-Fa-f]{1,12}$/.test(size)) throw invalid('invalid chunk size');
    this.#left = parseInt(size, 16);
    this.#state = this.#left === 0 ? 'trailers' : 'chunk-data';
  };
  readonly #onChunkEnd = (line: string): void => {
    if (line.length > 0) throw invalid('no CRLF after a chunk');
    this.#state = 'chunk-size';
  };
  readonly #onTrailer = (line: string): void => {
    if (line.length === 0) this.#finish();
  };

  /** Collects one CRLF-ended line (it may span pieces) and hands it over without the CRLF. */
  #line(buf: Buffer, at: number, end: number, take: (line: string) => void): number {
    const lf = buf.indexOf(LF, at);
    if (lf === -1 || lf >= end) {
      this.#held.append(buf, at, end);
      if (this.#held.length > MAX_LINE_BYTES) throw invalid('line too long');
      return end;
    }
    let bytes = buf.subarray(at, lf);
    if (this.#held.length > 0) {
      this.#held.append(buf, at, lf);
      bytes = this.#held.bytes;
    }
    if (bytes.length === 0 || bytes[bytes.length - 1] !== CR) throw invalid('line without CRLF');
    const line = bytes.toString('latin1', 0, bytes.length - 1);
    this.#held.clear();
    take(line);
    return lf + 1;
  }
}

/** The status line, `text[0, end)`: `HTTP/1.x NNN reason`. */
function statusLine(text: string, end: number): { statusCode: number; statusText: string; http10: boolean } {
  const status = STATUS_LINE.exec(text.slice(0, end));
  if (!status) throw invalid('invalid status line');
  return { statusCode: Number(status[2]), statusText: status[3] ?? '', http10: status[1] === '0' };
}

/** `text[start, end)` without the optional whitespace (spaces and tabs) around a field value. */
function withoutOws(text: string, start: number, end: number): string {
  while (start < end && isOws(text.charCodeAt(start))) start++;
  while (end > start && isOws(text.charCodeAt(end - 1))) end--;
  return text.slice(start, end);
}

function isOws(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

function invalid(message: string): HttpError {
  return new HttpError('HPE_INVALID_CONSTANT', message);
}

/**
 * Bytes carried over from earlier pieces, appended to in place with room to grow: a head
 * trickled in byte by byte costs its length in copying, not its square.
 */
class HeldBytes {
  #buffer: Buffer | undefined;
  length = 0;

  append(buf: Buffer, start: number, end: number): void {
    const length = this.length + (end - start);
    if (!this.#buffer || length > this.#buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(length, 2 * (this.#buffer?.length ?? 256)));
      this.#buffer?.copy(grown, 0, 0, this.length);
      this.#buffer = grown;
    }
    buf.copy(this.#buffer, this.length, start, end);
    this.length = length;
  }

  /** What is held: a view, valid until the next append or clear. */
  get bytes(): Buffer {
    return this.#buffer ? this.#buffer.subarray(0, this.length) : Buffer.alloc(0);
  }

  clear(): void {
    this.#buffer = undefined;
    this.length = 0;
  }
}
