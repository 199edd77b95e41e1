import { sleep } from '../utils/sleep.js';
import { Gate } from './gate.js';

export interface LimitOptions {
  global: number;
  perHost: number;
  perSite: number;
  /** Overrides by `hostname:port` or by bare hostname (every port). */
  hostLimits?: ReadonlyMap<string, number>;
  siteLimits?: ReadonlyMap<string, number>;
  /** How a job of `host` sleeps (see pause): the scheduler lends its place meanwhile. */
  awayFor?(host: string, wait: Promise<void>): Promise<void>;
}

/**
 * Concurrency limits taken narrow to wide: host, then site, then global, given back in reverse.
 * A job waiting on a busy host therefore never sits on a site or global slot that a job of
 * another host could use. Limiters of keys nobody uses are dropped, so a run over a million
 * hosts keeps only the busy ones. A host can be cooled down (Retry-After): until then none of
 * its jobs takes a slot, and jobs of other hosts are not affected.
 */
export class Limits {
  private readonly global: Gate;
  private readonly hosts = new Map<string, Gate>();
  private readonly sites = new Map<string, Gate>();
  /** Hosts that asked for a pause, with the time (ms since epoch) it ends. */
  private readonly cooldowns = new Map<string, number>();

  constructor(private readonly options: LimitOptions) {
    this.global = new Gate(options.global);
  }

  /**
   * Runs `task` holding a slot of its host, its site and the global pool, after any cooldown of
   * the host. When `signal` aborts, waiting for a cooldown ends early (the task then decides).
   * Slots that are free are taken without a wait (see Gate).
   */
  async run<T>(host: string, site: string, task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    let hostGate: Gate;
    for (;;) {
      const cooling = this.coolingFor(host);
      if (cooling > 0) await this.pause(host, cooling, signal);
      // Looked up right before it is taken: an idle gate may be dropped while a job sleeps.
      hostGate = gateOf(this.hosts, host, this.hostLimit(host));
      const wait = hostGate.take();
      if (wait) await wait;
      // The host may have been cooled down while this job waited for its slot.
      if (this.coolingFor(host) === 0 || signal?.aborted) break;
      giveBack(this.hosts, host, hostGate);
    }
    const siteGate = gateOf(this.sites, site, this.siteLimit(site));
    // A gate's wait never rejects: once the host slot is held, nothing before the task can throw.
    const siteWait = siteGate.take();
    if (siteWait) await siteWait;
    const globalWait = this.global.take();
    if (globalWait) await globalWait;
    try {
      return await task();
    } finally {
      this.global.give();
      giveBack(this.sites, site, siteGate);
      giveBack(this.hosts, host, hostGate);
    }
  }

  /**
   * A job of `host` sleeps `ms` holding no slot (its host's cooldown, a retry's backoff), or
   * until `signal` aborts; the scheduler may lend its place meanwhile (options.awayFor).
   */
  pause(host: string, ms: number, signal?: AbortSignal): Promise<void> {
    const wait = sleep(ms, signal);
    return this.options.awayFor ? this.options.awayFor(host, wait) : wait;
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

  /** The limit that applies to a site (registrable domain). */
  siteLimit(site: string): number {
    return this.options.siteLimits?.get(site) ?? this.options.perSite;
  }

  /** The limit that applies to `hostname:port`. */
  hostLimit(host: string): number {
    const overrides = this.options.hostLimits;
    if (!overrides) return this.options.perHost;
    const colon = host.lastIndexOf(':');
    const hostname = colon > 0 && /^\d+$/.test(host.slice(colon + 1)) ? host.slice(0, colon) : host;
    return overrides.get(host) ?? overrides.get(hostname) ?? this.options.perHost;
  }
}

/** The gate of `key`, made when the key is first used. */
function gateOf(map: Map<string, Gate>, key: string, size: number): Gate {
  let gate = map.get(key);
  if (!gate) {
    gate = new Gate(size);
    map.set(key, gate);
  }
  return gate;
}

/** Gives a slot back, dropping the gate once nobody holds or waits for it. */
function giveBack(map: Map<string, Gate>, key: string, gate: Gate): void {
  gate.give();
  if (gate.idle) map.delete(key);
}
