/**
 * The parts of undici that a direct run uses, loaded on their own. undici's index loads all it
 * offers (fetch, WebSocket, cookies, the mocks, the cache), which touches Node's own bundled
 * undici too: 80 ms of a run's start-up here, on top of the 50-65 ms these two take (25 ms of
 * it Node's http2 module, which undici's client loads whether or not it is used). Proxies need the
 * whole package (its proxy agents use request methods that the index adds to every
 * dispatcher), so it is loaded when one is configured. undici is pinned to one major version; the
 * tests fail at once if these paths move.
 */
import { createRequire } from 'node:module';
import Agent from 'undici/lib/dispatcher/agent.js';
import Pool from 'undici/lib/dispatcher/pool.js';

export { Agent, Pool };

export function wholeUndici(): typeof import('undici') {
  return createRequire(import.meta.url)('undici') as typeof import('undici');
}
