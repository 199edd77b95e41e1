import { parse } from 'content-disposition';
import { sanitizeName } from '../fs/naming.js';

/**
 * The file name a Content-Disposition header gives (`filename*` preferred), as one safe path
 * segment: folders in it are dropped, and it is sanitized like any other name. Undefined when
 * the header gives none. Node hands header bytes over as latin1; servers send UTF-8 in plain
 * `filename` too, so the bytes are read as UTF-8 when they are valid UTF-8.
 */
export function nameFromDisposition(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const utf8 = /[^\u0000-\u00ff]/.test(header) ? header : Buffer.from(header, 'latin1').toString('utf8');
  const text = utf8.includes('\ufffd') ? header : utf8;
  let name: string | undefined;
  try {
    const { parameters } = parse(text);
    name = parameters.filename;
  } catch {
    return undefined; // a header that does not parse names nothing
  }
  const last = name?.split(/[\\/]/).pop()?.trim();
  if (!last || last === '.' || last === '..') return undefined;
  return sanitizeName(last);
}
