import type { Dispatcher } from 'undici';

/** A URL's hostname as a socket takes it: an IPv6 address without its brackets. */
export function bareHostname(hostname: string): string {
  return hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
}

/**
 * Whether a URL's hostname, bare (see bareHostname), is an IP address. A URL writes every IPv4
 * host as four decimal numbers and an IPv6 one in brackets, so the shape tells. Not node:net's
 * isIP: a run that opens no connection of JavaScript's need not load that module.
 */
export function isAddress(bare: string): boolean {
  return bare.includes(':') || IPV4.test(bare);
}

const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/** A request's origin as text (`http://host:port`): undici and dl give it so, a URL gives its own. */
export function originOf(opts: Dispatcher.DispatchOptions): string | undefined {
  return typeof opts.origin === 'string' ? opts.origin : opts.origin?.origin;
}
