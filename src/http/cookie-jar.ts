import { readFile } from 'node:fs/promises';
import type { Dispatcher } from 'undici';
import { originOf } from './origin-of.js';
import { UsageError } from '../errors/errors.js';

interface Cookie {
  /** Lower case, without a leading dot. */
  domain: string;
  /** Also sent to subdomains (the file's flag, or a leading dot). */
  subdomains: boolean;
  path: string;
  secure: boolean;
  name: string;
  value: string;
}

/**
 * Cookies from a Netscape cookies.txt file (what browsers' exporters, yt-dlp and gallery-dl
 * write): tab-separated domain, include-subdomains, path, secure, expiry, name, value; `#` lines
 * are comments except `#HttpOnly_` ones. Read once; the values never appear in dl's output.
 */
export class CookieJar {
  private constructor(private readonly cookies: readonly Cookie[]) {}

  static async load(path: string): Promise<CookieJar> {
    const nowSeconds = Date.now() / 1000;
    const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new UsageError(`cannot read the cookies file ${path}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`);
    });
    const cookies: Cookie[] = [];
    text.split(/\r?\n/).forEach((raw, index) => {
      let line = raw;
      if (line.startsWith('#HttpOnly_')) line = line.slice('#HttpOnly_'.length);
      else if (line.startsWith('#') || line.trim() === '') return;
      const fields = line.split('\t');
      if (fields.length < 7) throw new UsageError(`${path}:${index + 1}: not a cookies.txt line (7 tab-separated fields)`);
      const [domain = '', flag, cookiePath, secure, expires, name = '', ...value] = fields;
      const expiry = Number(expires);
      if (expiry !== 0 && expiry < nowSeconds) return; // expired
      cookies.push({
        domain: domain.toLowerCase().replace(/^\./, ''),
        subdomains: flag === 'TRUE' || domain.startsWith('.'),
        path: cookiePath || '/',
        secure: secure === 'TRUE',
        name,
        value: value.join('\t'),
      });
    });
    return new CookieJar(cookies);
  }

  /** The Cookie header for a request to `url`, or undefined when no cookie applies. */
  headerFor(url: URL): string | undefined {
    const host = url.hostname.toLowerCase();
    const pairs: string[] = [];
    for (const cookie of this.cookies) {
      if (cookie.secure && url.protocol !== 'https:') continue;
      const domainMatches = host === cookie.domain || (cookie.subdomains && host.endsWith(`.${cookie.domain}`));
      if (!domainMatches || !pathMatches(url.pathname, cookie.path)) continue;
      pairs.push(`${cookie.name}=${cookie.value}`);
    }
    return pairs.length > 0 ? pairs.join('; ') : undefined;
  }
}

/** RFC 6265 path-match: the same path, or below it. */
function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}

/**
 * The jar's cookies on every request the dispatcher sends, redirects included: each hop is
 * dispatched on its own (http/redirects.ts), so the jar sees it with that hop's own origin and
 * path, and a redirect to another host of the cookies' domain carries them (a Cookie header given
 * with -H is dropped on a hop to another origin, which is right: it was given for the first one).
 */
export function cookieInterceptor(jar: CookieJar): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) => (opts, handler) => {
    // Origin and path joined as text: resolved as a reference, a path that starts with `//`
    // (`http://a.example//b.example/x`) would name another host, and get that host's cookies.
    const origin = originOf(opts);
    const fromJar = origin === undefined ? undefined : jar.headerFor(new URL(`${origin}${opts.path}`));
    return dispatch(fromJar ? { ...opts, headers: withCookie(opts.headers, fromJar) } : opts, handler);
  };
}

type Headers = Dispatcher.DispatchOptions['headers'];

/** A copy of `headers` (in any of the forms undici takes) with `cookies` after any Cookie in them. */
function withCookie(headers: Headers, cookies: string): string[] {
  const flat: string[] = [];
  if (Array.isArray(headers) && !Array.isArray(headers[0])) flat.push(...(headers as string[]).map(String));
  else if (headers) {
    const entries = Symbol.iterator in headers ? (headers as Iterable<[string, string | string[] | undefined]>) : Object.entries(headers);
    for (const [name, value] of entries) {
      if (value === undefined) continue;
      for (const one of Array.isArray(value) ? value : [value]) flat.push(name, one);
    }
  }
  for (let i = 0; i < flat.length; i += 2) {
    if (flat[i]!.toLowerCase() === 'cookie') {
      flat[i + 1] = `${flat[i + 1]}; ${cookies}`;
      return flat;
    }
  }
  flat.push('cookie', cookies);
  return flat;
}
