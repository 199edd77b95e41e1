import type { Dispatcher } from 'undici';
import { Agent, Pool, wholeUndici } from './undici.js';
import type { Timeouts } from '../errors/classify.js';
import { cookieInterceptor, type CookieJar } from './cookie-jar.js';

export interface DispatcherOptions {
  /** Connections per origin; the host limit, so that a pool never opens more than it may use. */
  connectionsFor(origin: URL): number;
  timeouts: Timeouts;
  /** Cookies to add to every request and redirect (--cookies). */
  cookies?: CookieJar;
}

/**
 * One shared dispatcher for the whole run: keep-alive pools per origin sized to the host limit,
 * and no pipelining (a slow response must not hold up the next one on the same socket).
 * Redirects are followed by the caller (http/redirects.ts).
 */
export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const common = {
    connect: { timeout: options.timeouts.connectMs },
    headersTimeout: options.timeouts.headersMs,
    // undici's body timeout is the longest gap between two pieces of the body: an idle timeout.
    bodyTimeout: options.timeouts.idleMs,
  };
  // Each hop of a redirect is dispatched on its own, so the jar gets to add its cookies to it.
  const interceptors = options.cookies ? [cookieInterceptor(options.cookies)] : [];
  const composed = (dispatcher: Dispatcher): Dispatcher => (interceptors.length > 0 ? dispatcher.compose(interceptors) : dispatcher);
  // HTTP_PROXY / HTTPS_PROXY / NO_PROXY, lower case first, as curl reads them; an empty value
  // counts as unset (undici alone would let an empty http_proxy hide HTTP_PROXY).
  const { env } = process;
  const variable = (name: string): string => env[name.toLowerCase()] || env[name] || '';
  const httpProxy = variable('HTTP_PROXY');
  const httpsProxy = variable('HTTPS_PROXY');
  if (httpProxy || httpsProxy) {
    const { EnvHttpProxyAgent } = wholeUndici();
    return composed(new EnvHttpProxyAgent({ ...common, httpProxy, httpsProxy: httpsProxy || httpProxy, noProxy: variable('NO_PROXY') }));
  }
  const agent = new Agent({
    ...common,
    factory: (origin, opts) => {
      const url = typeof origin === 'string' ? new URL(origin) : origin;
      return new Pool(url, { ...opts, connections: options.connectionsFor(url), pipelining: 1 });
    },
  });
  return composed(agent);
}

