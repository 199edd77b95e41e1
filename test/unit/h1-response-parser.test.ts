import { describe, expect, it } from 'vitest';
import { ResponseParser, type ResponseHeaders } from '../../src/http/h1/response-parser.js';

interface Parsed {
  heads: Array<{ status: number; text: string; headers: ResponseHeaders }>;
  body: string;
  ends: number;
  parser: ResponseParser;
}

/** Feeds `pieces` to a fresh parser one by one, as separate socket reads would. */
function parse(pieces: string[], method = 'GET'): Parsed {
  const parsed: Parsed = { heads: [], body: '', ends: 0, parser: undefined as unknown as ResponseParser };
  const parser = new ResponseParser({
    onHead: (status, text, headers) => parsed.heads.push({ status, text, headers }),
    onBody: (chunk) => (parsed.body += chunk.toString('latin1')),
    onEnd: () => parsed.ends++,
  });
  parsed.parser = parser;
  parser.expect(method);
  for (const piece of pieces) {
    const buf = Buffer.from(`xx${piece}yy`, 'latin1'); // the piece is a window of a larger buffer
    parser.feed(buf, 2, buf.length - 2);
  }
  return parsed;
}

/** Every way of cutting `text` in two, and in single bytes. */
function splits(text: string): string[][] {
  const ways = [[...text]];
  for (let at = 1; at < text.length; at++) ways.push([text.slice(0, at), text.slice(at)]);
  return ways;
}

describe('ResponseParser', () => {
  it('reads a Content-Length body, however the bytes are cut', () => {
    const response = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\nx-a: 2\r\n\r\nhello';
    for (const pieces of splits(response)) {
      const { heads, body, ends, parser } = parse(pieces);
      expect(heads).toEqual([{ status: 200, text: 'OK', headers: { 'content-length': '5', 'x-a': ['1', '2'] } }]);
      expect(body).toBe('hello');
      expect(ends).toBe(1);
      expect(parser.keepAlive).toBe(true);
    }
  });

  it('takes no byte past the piece for a bare LF: a read buffer holds old bytes after it', () => {
    const heads: number[] = [];
    const parser = new ResponseParser({ onHead: (status) => heads.push(status), onBody: () => undefined, onEnd: () => undefined });
    parser.expect('GET');
    // The piece ends in CRLF; the byte after it, left from an earlier read, is an LF.
    const first = Buffer.from('HTTP/1.1 200 OK\r\n\nstale', 'latin1');
    parser.feed(first, 0, 17);
    const rest = Buffer.from('Content-Length: 0\r\n\r\n', 'latin1');
    parser.feed(rest, 0, rest.length);
    expect(heads).toEqual([200]);
  });

  it('reads a head of 600 fields (56 KiB) fed a byte at a time, and refuses one past 64 KiB fed so', () => {
    const fields = Array.from({ length: 600 }, (_, i) => `X-Field-${i}: ${'v'.repeat(80)}\r\n`).join('');
    const { heads, body } = parse([...`HTTP/1.1 200 OK\r\nContent-Length: 2\r\n${fields}\r\nok`]);
    expect(Object.keys(heads[0]!.headers)).toHaveLength(601);
    expect(heads[0]!.headers['x-field-599']).toBe('v'.repeat(80));
    expect(body).toBe('ok');
    const over = `HTTP/1.1 200 OK\r\n${fields}${fields.slice(0, 16 * 1024)}`;
    expect(() => parse([...over])).toThrow(expect.objectContaining({ code: 'UND_ERR_HEADERS_OVERFLOW' }));
  });

  it('decodes a chunked body with extensions and trailers, however the bytes are cut', () => {
    const response = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\nA\r\n, world!!!\r\n0\r\nX-Trailer: t\r\n\r\n';
    for (const pieces of splits(response)) {
      const { body, ends } = parse(pieces);
      expect(body).toBe('hello, world!!!');
      expect(ends).toBe(1);
    }
  });

  it('ends a body of no stated length with the connection, and then only', () => {
    const parsed = parse(['HTTP/1.1 200 OK\r\n\r\nsome', ' more']);
    expect(parsed.ends).toBe(0);
    expect(parsed.parser.endsWithConnection).toBe(true);
    expect(parsed.parser.keepAlive).toBe(false);
    parsed.parser.eof();
    expect(parsed.body).toBe('some more');
    expect(parsed.ends).toBe(1);
  });

  it('a connection that ends before the stated length is an error, not an end', () => {
    const { parser, ends } = parse(['HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort']);
    expect(() => parser.eof()).toThrow(expect.objectContaining({ code: 'UND_ERR_SOCKET' }));
    expect(ends).toBe(0);
  });

  it('keys fields by lower-case name, values without the spaces and tabs around them; names of Object.prototype are plain fields', () => {
    const heads: ResponseHeaders[] = [];
    const parser = new ResponseParser({ onHead: (_status, _text, headers) => heads.push(headers), onBody: () => undefined, onEnd: () => undefined });
    const response = Buffer.from(
      'HTTP/1.1 200 OK\r\nContent-TYPE:\t text/plain \t\r\nX-Inner: a  b\r\nX-Empty:\r\n' +
        'Constructor: one\r\nconstructor: two\r\n__proto__: three\r\nContent-Length: 2\r\n\r\nok',
      'latin1',
    );
    // Twice on one parser: the second time the names come from what it remembers of the first.
    for (let round = 0; round < 2; round++) {
      parser.expect('GET');
      parser.feed(response, 0, response.length);
    }
    for (const headers of heads) {
      expect(headers).toEqual({ 'content-type': 'text/plain', 'x-inner': 'a  b', 'x-empty': '', constructor: ['one', 'two'], 'content-length': '2' });
      expect(Object.getPrototypeOf(headers)).toBe(Object.prototype);
    }
    expect(heads).toHaveLength(2);
  });

  it('a field name refused once is refused again on the same connection', () => {
    const parser = new ResponseParser({ onHead: () => undefined, onBody: () => undefined, onEnd: () => undefined });
    const response = Buffer.from('HTTP/1.1 200 OK\r\nBad Name: value\r\nContent-Length: 0\r\n\r\n', 'latin1');
    for (let round = 0; round < 2; round++) {
      parser.expect('GET');
      expect(() => parser.feed(response, 0, response.length)).toThrow(expect.objectContaining({ code: 'HPE_INVALID_CONSTANT' }));
    }
  });

  it('passes informational heads before the final one; 204, 304 and HEAD answers have no body', () => {
    const early = parse(['HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok']);
    expect(early.heads.map((head) => head.status)).toEqual([103, 200]);
    expect(early.body).toBe('ok');
    for (const [status, method] of [['204', 'GET'], ['304', 'GET'], ['200', 'HEAD']] as const) {
      const { ends, body } = parse([`HTTP/1.1 ${status} X\r\nContent-Length: 7\r\n\r\n`], method);
      expect([ends, body]).toEqual([1, '']);
    }
  });

  it('Connection: close, and HTTP/1.0 without keep-alive, end the connection after the answer', () => {
    expect(parse(['HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n']).parser.keepAlive).toBe(false);
    expect(parse(['HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n']).parser.keepAlive).toBe(false);
    expect(parse(['HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n']).parser.keepAlive).toBe(true);
  });

  it('refuses what could cut a body short or run it into the next answer', () => {
    const refused = [
      'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY\r\n',
      'HTTP/1.1 200 OK\r\n folded: value\r\n\r\n',
      'HTTP/1.1 200 OK\r\nbad name: value\r\n\r\n',
      'HTTP/2 200\r\n\r\n',
      'HTTP/1.1 101 Switching Protocols\r\n\r\n',
      'HTTP/1.1 200 OK\nContent-Length: 2\n\nok',
    ];
    for (const response of refused) {
      const outcome = (): Parsed => parse([response]);
      expect(outcome, response).toThrow(expect.objectContaining({ code: 'HPE_INVALID_CONSTANT' }));
    }
  });

  it('bytes after a whole answer leave the answer whole, but the connection unfit for another', () => {
    const events: string[] = [];
    const parser = new ResponseParser({ onHead: () => events.push('head'), onBody: (chunk) => events.push(chunk.toString()), onEnd: () => events.push('end') });
    parser.expect('GET');
    const bytes = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok\r\nHTTP/1.1');
    parser.feed(bytes, 0, bytes.length);
    expect(events).toEqual(['head', 'ok', 'end']);
    expect(parser.keepAlive).toBe(false);
  });

  it('refuses a head larger than 64 KiB, in one piece or many', () => {
    const big = `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(70_000)}\r\n\r\n`;
    expect(() => parse([big])).toThrow(expect.objectContaining({ code: 'UND_ERR_HEADERS_OVERFLOW' }));
    const pieces = big.match(/[^]{1,1000}/g)!;
    expect(() => parse(pieces)).toThrow(expect.objectContaining({ code: 'UND_ERR_HEADERS_OVERFLOW' }));
  });
});
