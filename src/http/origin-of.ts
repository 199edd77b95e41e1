import type { Dispatcher } from 'undici';

/** A URL's hostname as a socket takes it: an IPv6 address without its brackets. */
export function bareHostname(hostname: string): string {
  return hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
}

/** A request's origin as text (`http://host:port`): undici and dl give it so, a URL gives its own. */
export function originOf(opts: Dispatcher.DispatchOptions): string | undefined {
  return typeof opts.origin === 'string' ? opts.origin : opts.origin?.origin;
}
