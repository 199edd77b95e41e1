import pLimit, { type LimitFunction } from 'p-limit';

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
 * hosts keeps only the busy ones.
 */
export class Limits {
  private readonly global: LimitFunction;
  private readonly hosts = new Map<string, Keyed>();
  private readonly sites = new Map<string, Keyed>();

  constructor(private readonly options: LimitOptions) {
    this.global = pLimit(options.global);
  }

  /** Runs `task` holding a slot of its host, its site and the global pool. */
  run<T>(host: string, site: string, task: () => Promise<T>): Promise<T> {
    return this.with(this.hosts, host, this.hostLimit(host), () =>
      this.with(this.sites, site, this.options.siteLimits?.get(site) ?? this.options.perSite, () =>
        this.global(task),
      ),
    );
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
