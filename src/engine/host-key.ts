import type * as Tldts from 'tldts';
import { loadLater } from '../utils/load-later.js';

/** The Public Suffix List takes ~80 ms to load: only when a hostname needs it. */
const load = loadLater<typeof Tldts>('tldts');

/** IP addresses and single-label names (localhost) are their own site without a lookup. */
const OWN_SITE = /^(\[.*\]|\d+\.\d+\.\d+\.\d+|[^.]+)$/;

/** A host is `hostname:port`: two ports on one machine are two hosts with their own limits. */
export function hostKeyOf(url: URL): string {
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return `${url.hostname}:${port}`;
}

/**
 * A site is the registrable domain (`a.example.co.uk` -> `example.co.uk`) from the Public Suffix
 * List; IP addresses and single-label names such as localhost are their own site.
 */
export function siteKeyOf(hostname: string): string {
  let site = sites.get(hostname);
  if (site === undefined) {
    site = OWN_SITE.test(hostname) ? hostname : (load().getDomain(hostname, { allowPrivateDomains: true }) ?? hostname);
    // Lists usually name few hosts many times; a list of millions of hosts just starts over.
    if (sites.size >= MAX_CACHED_SITES) sites.clear();
    sites.set(hostname, site);
  }
  return site;
}

const MAX_CACHED_SITES = 10_000;
const sites = new Map<string, string>();
