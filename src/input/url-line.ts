import { redactUrl } from '../utils/redact-url.js';

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
