import type { Dispatcher } from 'undici';
import { RedirectError } from '../errors/errors.js';
import { redactUrl } from '../utils/redact-url.js';
import { exchange, type ResponseHead } from './exchange.js';
import { first } from './validator.js';

/** Answers whose Location is followed (those undici's redirect interceptor follows). */
const REDIRECTS = new Set([300, 301, 302, 303, 307, 308]);
/** Headers that never go to another origin than the one they were given for. */
const CREDENTIALS = ['authorization', 'cookie', 'proxy-authorization'];

/**
 * Sends a GET and follows up to `maxRedirections` redirects; resolves with the first answer that
 * is not one to follow (a redirect past the limit, or one without a usable Location, comes back
 * as it is). Followed here rather than by undici's redirect interceptor, which wrapped every
 * request in a handler that copied its options and parsed its URL again, redirect or not: 10 us
 * a request in a run of small files. Each hop still goes through the dispatcher, so the cookie
 * jar sees each hop with its own origin and path.
 */
export function exchangeFollowing(
  dispatcher: Pick<Dispatcher, 'dispatch'>,
  url: URL,
  headers: Record<string, string>,
  signal: AbortSignal,
  maxRedirections: number,
): Promise<ResponseHead> {
  // Not an async function: most answers are no redirect, and they then cost no more than the
  // exchange's own promise and this one step.
  return exchange(dispatcher, url, headers, signal).then((response) =>
    REDIRECTS.has(response.statusCode) ? followRedirects(dispatcher, url, headers, signal, maxRedirections, response) : response,
  );
}

/** exchangeFollowing() once an answer that may be a redirect is in. */
async function followRedirects(
  dispatcher: Pick<Dispatcher, 'dispatch'>,
  url: URL,
  headers: Record<string, string>,
  signal: AbortSignal,
  maxRedirections: number,
  first: ResponseHead,
): Promise<ResponseHead> {
  let response = first;
  let next = followable(url, response);
  if (!next) return response;
  const seen = new Set([url.href]);
  for (let hops = 0; next && hops < maxRedirections; hops++) {
    if (seen.has(next.href)) {
      response.body.discard();
      throw new RedirectError(`redirect loop: the server keeps redirecting to a URL it already sent (${redactUrl(next.href)})`);
    }
    seen.add(next.href);
    await response.body.drain();
    headers = headersFor(headers, url, next);
    url = next;
    response = await exchange(dispatcher, url, headers, signal);
    next = followable(url, response);
  }
  return response;
}

/** The next hop of `response`; a Location that cannot be followed fails the job, saying so. */
function followable(from: URL, response: ResponseHead): URL | undefined {
  try {
    return nextHop(from, response);
  } catch (error) {
    response.body.discard();
    throw error;
  }
}

/**
 * Where a redirect leads: an http(s) URL resolved against the one asked for, without its
 * fragment; undefined when the answer is not a redirect or has no Location (it comes back as it
 * is). A Location that is not an http(s) URL fails for good: no retry would make it one.
 */
function nextHop(from: URL, { statusCode, headers }: ResponseHead): URL | undefined {
  if (!REDIRECTS.has(statusCode)) return undefined;
  const location = first(headers.location);
  if (!location) return undefined;
  let to: URL | undefined;
  try {
    to = new URL(location, from);
  } catch {
    to = undefined;
  }
  if (!to || (to.protocol !== 'http:' && to.protocol !== 'https:')) {
    throw new RedirectError(`HTTP ${statusCode} to ${redactUrl(location)}, which is not an http(s) URL`);
  }
  to.hash = '';
  return to;
}

/**
 * The headers of the hop from `from` to `to`: a Host given with -H is for the first origin only,
 * and credentials (Authorization, Cookie, Proxy-Authorization) are dropped on the way to another
 * origin, and stay dropped after it (as undici's interceptor did; curl does the same unless told
 * otherwise). The cookie jar adds its own cookies to each hop, by that hop's origin. (undici also
 * drops Content-* headers after a 303, for the body it no longer sends; dl's GETs have none.)
 */
function headersFor(headers: Record<string, string>, from: URL, to: URL): Record<string, string> {
  const sameOrigin = from.origin === to.origin;
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (lower === 'host' || (!sameOrigin && CREDENTIALS.includes(lower))) continue;
    kept[name] = value;
  }
  return kept;
}
