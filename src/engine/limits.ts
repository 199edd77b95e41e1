import pLimit, { type LimitFunction } from 'p-limit';
import { sleep } from '../utils/sleep.js';

export interface LimitOptions {
  global: number;
  perHost: number;
  perSite: number;
  /** Overrides by `hostname:port` or by bare hostname (every port). */
  hostLimits?: ReadonlyMap<string, number>;
  siteLimits?: ReadonlyMap<string, number>;
}

interface Keyed {
  limit: LimitFunction;
  users: number;
}

/**
 * Concurrency limits taken narrow to wide: host, then site, then global, given back in reverse.
 * A job waiting on a busy host therefore never sits on a site or global slot that a job of
 * another host could use. Limiters of keys nobody uses are dropped, so a run over a million
 * hosts keeps only the busy ones. A host can be cooled down (Retry-After): until then none of
 * its jobs takes a slot, and jobs of other hosts are not affected.
 */
export class Limits {
  private readonly global: LimitFunction;
  private readonly hosts = new Map<string, Keyed>();
  private readonly sites = new Map<string, Keyed>();
  /** Hosts that asked for a pause, with the time (ms since epoch) it ends. */
  private readonly cooldowns = new Map<string, number>();

  constructor(private readonly options: LimitOptions) {
    this.global = pLimit(options.global);
  }

  /**
   * Runs `task` holding a slot of its host, its site and the global pool, after any cooldown of
   * the host. When `signal` aborts, waiting for a cooldown ends early (the task then decides).
   */
  async run<T>(host: string, site: string, task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    for (;;) {
      await sleep(this.coolingFor(host), signal);
      const outcome = await this.with(this.hosts, host, this.hostLimit(host), async () => {
        // The host may have been cooled down while this job waited for its slot.
        if (this.coolingFor(host) > 0 && !signal?.aborted) return undefined;
        const siteLimit = this.options.siteLimits?.get(site) ?? this.options.perSite;
        return { value: await this.with(this.sites, site, siteLimit, () => this.global(task)) };
      });
      if (outcome) return outcome.value;
    }
  }

  /** Keeps every job of `host` from starting before `untilMs`. */
  coolDown(host: string, untilMs: number): void {
    if (untilMs > (this.cooldowns.get(host) ?? 0)) this.cooldowns.set(host, untilMs);
  }

  /** Milliseconds left in the host's cooldown (0 when there is none). */
  private coolingFor(host: string): number {
    const until = this.cooldowns.get(host);
    if (until === undefined) return 0;
    const left = until - Date.now();
    if (left <= 0) this.cooldowns.delete(host);
    return Math.max(0, left);
  }

  /** The limit that applies to `hostname:port`. */
  hostLimit(host: string): number {
    const overrides = this.options.hostLimits;
    if (!overrides) return this.options.perHost;
    const colon = host.lastIndexOf(':');
    const hostname = colon > 0 && /^\d+$/.test(host.slice(colon + 1)) ? host.slice(0, colon) : host;
    return overrides.get(host) ?? overrides.get(hostname) ?? this.options.perHost;
  }

  private async with<T>(map: Map<string, Keyed>, key: string, concurrency: number, task: () => Promise<T>): Promise<T> {
    let keyed = map.get(key);
    if (!keyed) {
      keyed = { limit: pLimit(concurrency), users: 0 };
      map.set(key, keyed);
    }
    keyed.users++;
    try {
      return await keyed.limit(task);
    } finally {
      if (--keyed.users === 0) map.delete(key);
    }
  }
}
