import { redactUrl } from '../utils/redact-url.js';

/** An input line's URL, checked: http(s), with a host, without its fragment. */
export interface CheckedUrl {
  /** The URL as the WHATWG URL parser serializes it: the job's `url`. */
  href: string;
  /** Its path, for the file name. */
  pathname: string;
  /**
   * The parsed URL, when the line needed the parser (see PLAIN_URL). The others are parsed when
   * they are handed to the engine: a dry run never parses them, a download run does once.
   */
  parsed: URL | undefined;
}

/**
 * Decimal IPv4 parts as the parser writes them (no leading zeros), DNS labels in lower case
 * (none punycode: `xn--` labels are decoded and checked by the parser), a last label that starts
 * with a letter (one of digits or `0x...` is read as an IPv4 number).
 */
const IPV4_PART = '(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])';
const LABEL = '(?!xn--)[a-z0-9](?:[a-z0-9-]*[a-z0-9])?';
const HOST = `(?:${IPV4_PART}(?:\\.${IPV4_PART}){3}|(?:${LABEL}\\.)*(?!xn--)[a-z](?:[a-z0-9-]*[a-z0-9])?)`;

/**
 * URLs that are already what the URL parser would make of them: lower-case scheme and host, no
 * user or password, a port that is not the scheme's default (checked after the match), a path of
 * characters the parser leaves as they are, an optional query of such characters, no fragment.
 * A million lines of a bulk list are nearly all like this, and checking them with this pattern
 * takes a fifth of the parser's time. Dot segments (`/./`, `/../`, and `%2e` spelled in any case)
 * are left to the parser (DOT_SEGMENT). Anything else goes through the parser; the test
 * suite checks the pattern against it (test/unit/url-line.test.ts).
 */
const PLAIN_URL = new RegExp(
  `^https?://${HOST}(?::[1-9][0-9]{0,4})?/[A-Za-z0-9\\-._~!$&'()*+,;=:@%/]*(?:\\?[A-Za-z0-9\\-._~!$&()*+,;=:@%/?]*)?$`,
);
const DOT_SEGMENT = /\/(?:\.|%2e){1,2}(?:\/|$)/i;

/** The checked URL, or the reason why the text is not an http(s) URL dl can fetch. */
export function checkUrl(text: string): CheckedUrl | string {
  if (PLAIN_URL.test(text)) {
    // The pattern has no `@`, `[` or `/` before the path: the first `/` after `//` starts it.
    const afterScheme = text.charCodeAt(4) === 0x73 /* s */ ? 8 : 7;
    const pathAt = text.indexOf('/', afterScheme);
    const queryAt = text.indexOf('?', pathAt);
    const pathname = queryAt === -1 ? text.slice(pathAt) : text.slice(pathAt, queryAt);
    const colon = text.indexOf(':', afterScheme);
    const port = colon === -1 || colon > pathAt ? undefined : text.slice(colon + 1, pathAt);
    const defaultPort = afterScheme === 8 ? '443' : '80';
    const dots = (pathname.includes('/.') || pathname.includes('%2')) && DOT_SEGMENT.test(pathname);
    if ((port === undefined || (port !== defaultPort && Number(port) <= 65535)) && !dots) {
      return { href: text, pathname, parsed: undefined };
    }
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `not a URL: ${quote(text)}`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `unsupported scheme "${url.protocol.slice(0, -1)}" (dl fetches http and https URLs): ${quote(text)}`;
  }
  if (!url.hostname) return `URL has no host: ${quote(text)}`;
  // Assigning `hash` re-parses the whole URL: only do it when there is a fragment to drop. An
  // empty one (`a.bin#`) has no `hash` but keeps its `#` in href.
  if (url.hash || url.href.endsWith('#')) url.hash = '';
  return { href: url.href, pathname: url.pathname, parsed: url };
}

function quote(text: string): string {
  const shown = redactUrl(text);
  return JSON.stringify(shown.length > 200 ? `${shown.slice(0, 200)}...` : shown);
}
