/**
 * The parts of undici that a direct run uses, loaded on their own and only when the first
 * request that is not plain `http:` comes (plain `http:` goes over dl's own connections, see
 * http/agent.ts). undici's index loads all it offers (fetch, WebSocket, cookies, the mocks, the
 * cache), which touches Node's own bundled undici too: 80 ms of a run's start-up here, on top of
 * the 50-65 ms these two take (much of it Node's http2 and tls modules, which undici's client
 * loads whether or not it uses them). Proxies need the whole package (its proxy agents use
 * request methods that the index adds to every dispatcher), so it is loaded when one is
 * configured. undici is pinned to one major version; the tests fail at once if these paths move.
 */
import type { Agent, Pool } from 'undici';
import { loadLater } from '../utils/load-later.js';

export interface AgentParts {
  Agent: typeof Agent;
  Pool: typeof Pool;
}

export async function agentParts(): Promise<AgentParts> {
  const [agent, pool] = await Promise.all([import('undici/lib/dispatcher/agent.js'), import('undici/lib/dispatcher/pool.js')]);
  return { Agent: agent.default, Pool: pool.default };
}

export const wholeUndici = loadLater<typeof import('undici')>('undici');
