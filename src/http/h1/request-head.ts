import type { Dispatcher } from 'undici';
import { HEADER_NAME } from '../header-line.js';
import { HttpError } from './http-error.js';

const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** Headers that are the connection's to set, refused from callers as undici refuses them. */
const CONNECTION_HEADERS = new Set(['connection', 'transfer-encoding', 'keep-alive', 'upgrade', 'expect', 'content-length']);

/**
 * The head of an HTTP/1.1 request, as dl's own connections and the native fetcher send it;
 * throws (UND_ERR_INVALID_ARG) on a header that cannot be sent as it is. A Host given by the
 * caller (-H) wins over `host`, as undici lets it.
 */
export function requestHead(method: string, path: string, host: string, headers: Dispatcher.DispatchOptions['headers']): string {
  const block = headerBlock(headers);
  return `${method} ${path} HTTP/1.1\r\n${block.host ? '' : `host: ${host}\r\n`}${block.block}\r\n`;
}

interface HeaderBlock {
  /** `name: value\r\n` each. */
  block: string;
  /** The caller gave a Host. */
  host: boolean;
}

const NO_HEADERS: HeaderBlock = { block: '', host: false };

/**
 * The header block of a request; throws on a header that cannot be sent as it is. A bulk run
 * sends the same headers object with every request, so its block is made once.
 */
function headerBlock(headers: Dispatcher.DispatchOptions['headers']): HeaderBlock {
  if (!headers) return NO_HEADERS;
  const cached = blocks.get(headers);
  if (cached !== undefined) return cached;
  let block = '';
  let host = false;
  const add = (name: string, value: unknown): void => {
    if (value === undefined || value === null) return;
    const key = name.toLowerCase();
    if (CONNECTION_HEADERS.has(key)) throw new HttpError('UND_ERR_INVALID_ARG', `invalid ${name} header`);
    for (const one of Array.isArray(value) ? value : [value]) {
      const text = String(one);
      if (!HEADER_NAME.test(name) || !HEADER_VALUE.test(text)) throw new HttpError('UND_ERR_INVALID_ARG', `invalid ${name} header`);
      if (key === 'host') host = true;
      block += `${name}: ${text}\r\n`;
    }
  };
  if (Array.isArray(headers) && !Array.isArray(headers[0])) {
    for (let i = 0; i < headers.length; i += 2) add(String(headers[i]), headers[i + 1]);
  } else {
    const entries = Symbol.iterator in headers ? (headers as Iterable<[string, unknown]>) : Object.entries(headers);
    for (const [name, value] of entries) add(name, value);
  }
  const made = { block, host };
  blocks.set(headers, made);
  return made;
}

const blocks = new WeakMap<object, HeaderBlock>();
