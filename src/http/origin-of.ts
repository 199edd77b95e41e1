import type { Dispatcher } from 'undici';

/** A request's origin as text (`http://host:port`): undici and dl give it so, a URL gives its own. */
export function originOf(opts: Dispatcher.DispatchOptions): string | undefined {
  return typeof opts.origin === 'string' ? opts.origin : opts.origin?.origin;
}
