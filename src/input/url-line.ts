import { redactUrl } from '../utils/redact-url.js';

/** What one line of a plain input file says. */
export type UrlLine =
  | { kind: 'skip' }
  | { kind: 'url'; url: URL }
  | { kind: 'error'; reason: string };

/**
 * Reads one line of a URL list: blank lines and `#` comments are skipped; anything else must be
 * an absolute http(s) URL. The fragment is dropped (it is never sent to a server).
 */
export function parseUrlLine(text: string): UrlLine {
  const trimmed = text.trim();
  if (trimmed === '' || trimmed.startsWith('#')) return { kind: 'skip' };
  const checked = checkUrl(trimmed);
  return typeof checked === 'string' ? { kind: 'error', reason: checked } : { kind: 'url', url: checked };
}

/** A parsed http(s) URL, or the reason why the text is not one. */
export function checkUrl(text: string): URL | string {
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
  // Assigning `hash` re-parses the whole URL: only do it when there is a fragment to drop.
  if (url.hash) url.hash = '';
  return url;
}

function quote(text: string): string {
  const shown = redactUrl(text);
  return JSON.stringify(shown.length > 200 ? `${shown.slice(0, 200)}...` : shown);
}
