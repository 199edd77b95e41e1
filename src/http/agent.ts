import { Agent, Pool, interceptors, type Dispatcher } from 'undici';
import type { Timeouts } from '../errors/classify.js';

export interface DispatcherOptions {
  /** Connections per origin; the host limit, so that a pool never opens more than it may use. */
  connectionsFor(origin: URL): number;
  maxRedirections: number;
  timeouts: Timeouts;
}

/**
 * One shared dispatcher for the whole run: keep-alive pools per origin sized to the host limit,
 * no pipelining (a slow response must not hold up the next one on the same socket), and
 * redirects followed by undici's redirect interceptor.
 */
export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const agent = new Agent({
    connect: { timeout: options.timeouts.connectMs },
    headersTimeout: options.timeouts.headersMs,
    // undici's body timeout is the longest gap between two pieces of the body: an idle timeout.
    bodyTimeout: options.timeouts.idleMs,
    factory: (origin, opts) => {
      const url = typeof origin === 'string' ? new URL(origin) : origin;
      return new Pool(url, { ...opts, connections: options.connectionsFor(url), pipelining: 1 });
    },
  });
  return agent.compose(interceptors.redirect({ maxRedirections: options.maxRedirections }));
}
