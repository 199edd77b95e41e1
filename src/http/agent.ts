import { closeSync } from 'node:fs';
import type { Dispatcher } from 'undici';
import { agentParts, wholeUndici } from './undici.js';
import type { Timeouts } from '../errors/classify.js';
import { cookieInterceptor, type CookieJar } from './cookie-jar.js';
import type { HandedConnection } from './h1/connection.js';
import { H1Pool, type PoolOptions } from './h1/pool.js';
import { destroyedError, failUnstarted } from './h1/unstarted.js';
import { originOf } from './origin-of.js';

/** What dl asks of a dispatcher: requests in, and every connection closed at the end of a run. */
export interface Transport extends Pick<Dispatcher, 'dispatch' | 'destroy'>, Partial<SharesConnections> {}

/**
 * What dl's own connections share with the native fetcher (http/native-fetcher.ts). Only they,
 * with no interceptor to see each request, can: the fetcher is used where the run's dispatcher
 * has these.
 */
export interface SharesConnections {
  /**
   * Reads on the answer to a request the fetcher sent and then handed over with its connection;
   * the connection then serves the origin's other requests.
   */
  adopt(handed: HandedConnection, opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): void;
  /** A connection to `origin` is open and free: the next request takes it rather than open another. */
  hasIdle(origin: string): boolean;
}

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
 * Plain `http:` goes over dl's own connections (http/h1/), TLS over undici's; through a proxy,
 * everything goes through undici's proxy agent. Redirects are followed by the caller
 * (http/redirects.ts).
 */
export function createDispatcher(options: DispatcherOptions): Transport {
  const common = {
    connect: { timeout: options.timeouts.connectMs },
    headersTimeout: options.timeouts.headersMs,
    // undici's body timeout is the longest gap between two pieces of the body: an idle timeout.
    bodyTimeout: options.timeouts.idleMs,
  };
  // Each hop of a redirect is dispatched on its own, so the jar gets to add its cookies to it.
  const interceptors = options.cookies ? [cookieInterceptor(options.cookies)] : [];
  const composed = (transport: Transport): Transport => withInterceptors(transport, interceptors);
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
  const agent = async (): Promise<Transport> => {
    const { Agent, Pool } = await agentParts();
    return new Agent({
      ...common,
      factory: (origin, opts) => {
        const url = typeof origin === 'string' ? new URL(origin) : origin;
        return new Pool(url, { ...opts, connections: options.connectionsFor(url), pipelining: 1 });
      },
    });
  };
  const { connectMs, headersMs, idleMs } = options.timeouts;
  return composed(new PlainHttpRouter(agent, (url) => ({ connections: options.connectionsFor(url), connectTimeoutMs: connectMs, headersTimeoutMs: headersMs, bodyTimeoutMs: idleMs })));
}

/**
 * `transport` with interceptors around its dispatch, as undici's compose() puts them (the first
 * innermost); for undici's dispatchers and dl's router alike.
 */
function withInterceptors(transport: Transport, interceptors: Dispatcher.DispatcherComposeInterceptor[]): Transport {
  if (interceptors.length === 0) return transport;
  let dispatch: Dispatcher['dispatch'] = (opts, handler) => transport.dispatch(opts, handler);
  for (const interceptor of interceptors) dispatch = interceptor(dispatch);
  return { dispatch, destroy: () => transport.destroy() } as Transport;
}

/**
 * Plain `http:` origins to a pool of dl's own connections each; any other origin to undici,
 * made (and loaded, see http/undici.ts) when the first such request comes.
 * undici's connections cost a third of a small file's time in a bulk run (docs/architecture.md);
 * HTTP/1.1 without TLS is small enough to speak directly.
 */
class PlainHttpRouter {
  readonly #pools = new Map<string, H1Pool>();
  #destroyed = false;
  #fallback: Promise<Transport> | undefined;

  constructor(
    private readonly makeFallback: () => Promise<Transport>,
    private readonly poolOptions: (origin: URL) => PoolOptions,
  ) {}

  dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    if (this.#destroyed) {
      // As undici's destroyed agent answers, without loading undici for it.
      failUnstarted(handler, destroyedError());
      return false;
    }
    const origin = originOf(opts);
    if (origin === undefined || !origin.startsWith('http:')) {
      this.#undici().then(
        (agent) => {
          try {
            agent.dispatch(opts, handler);
          } catch (error) {
            // A request undici refuses outright: told as an answer would be, not thrown into the void.
            failUnstarted(handler, error as Error);
          }
        },
        (error: unknown) => failUnstarted(handler, error as Error),
      );
      return true;
    }
    this.#pool(origin).dispatch({ opts, handler });
    return true;
  }

  adopt(handed: HandedConnection, opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): void {
    if (this.#destroyed) {
      closeSync(handed.fd);
      return failUnstarted(handler, destroyedError());
    }
    this.#pool(originOf(opts)!).adopt(handed, { opts, handler });
  }

  hasIdle(origin: string): boolean {
    return this.#pools.get(origin)?.hasIdle ?? false;
  }

  /** Origins with a pool now: with connections open, or requests waiting for one. */
  get origins(): number {
    return this.#pools.size;
  }

  #pool(origin: string): H1Pool {
    let pool = this.#pools.get(origin);
    if (!pool) {
      const url = new URL(origin);
      const made: H1Pool = new H1Pool(url, this.poolOptions(url), () => {
        if (this.#pools.get(origin) === made) this.#pools.delete(origin);
      });
      this.#pools.set(origin, made);
      pool = made;
    }
    return pool;
  }

  async destroy(): Promise<void> {
    this.#destroyed = true;
    for (const pool of this.#pools.values()) pool.destroy();
    this.#pools.clear();
    // An agent that failed to load has nothing to close (its requests were told why).
    const agent = await this.#fallback?.catch(() => undefined);
    await agent?.destroy();
  }

  /** undici's agent, made on first use; destroyed at once if the router was meanwhile. */
  #undici(): Promise<Transport> {
    this.#fallback ??= this.makeFallback().then(async (agent) => {
      if (this.#destroyed) await agent.destroy();
      return agent;
    });
    return this.#fallback;
  }
}

