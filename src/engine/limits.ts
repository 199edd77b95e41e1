import { sleep } from '../utils/sleep.js';
import { Gate } from './gate.js';

/** The slots one attempt holds (Limits.acquire), given back with Limits.release. */
export interface HeldSlots {
  readonly host: string;
  readonly site: string;
  readonly hostGate: Gate;
  readonly siteGate: Gate;
}

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
   * Runs `task` holding a slot of its host, its site and the global pool (see acquire).
   */
  async run<T>(host: string, site: string, task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const pending = this.acquire(host, site, signal);
    const held = pending instanceof Promise ? await pending : pending;
    try {
      return await task();
    } finally {
      this.release(held);
    }
  }

  /**
   * Takes a slot of the host, its site and the global pool, after any cooldown of the host; the
   * slots are given back with release(). When `signal` aborts, waiting for a cooldown ends early
   * (the caller then decides). Slots that are free are taken without a wait (see Gate), and
   * without a promise: a job whose slots are free (most jobs of a bulk run) gets them at once.
   */
  acquire(host: string, site: string, signal?: AbortSignal): HeldSlots | Promise<HeldSlots> {
    // Some host cooling down is no reason to take the slower path: only this host's cooldown is.
    if (this.cooldowns.size > 0 && this.coolingFor(host) > 0) return this.acquireCooling(host, site, signal);
    const hostGate = gateOf(this.hosts, host, this.hostLimit(host));
    const wait = hostGate.take();
    if (!wait) return this.takeRest(host, site, hostGate);
    return wait.then(() => {
      // The host may have been cooled down while this job waited for its slot.
      if (this.coolingFor(host) === 0 || signal?.aborted) return this.takeRest(host, site, hostGate);
      giveBack(this.hosts, host, hostGate);
      return this.acquireCooling(host, site, signal);
    });
  }

  /** Gives back the slots acquire() took, widest first. */
  release(held: HeldSlots): void {
    this.global.give();
    giveBack(this.sites, held.site, held.siteGate);
    giveBack(this.hosts, held.host, held.hostGate);
  }

  /** acquire() while some host cools down: its cooldown is waited out before and after its slot. */
  private async acquireCooling(host: string, site: string, signal?: AbortSignal): Promise<HeldSlots> {
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
    return this.takeRest(host, site, hostGate);
  }

  /** With the host slot held: the site's, then the global one. */
  private takeRest(host: string, site: string, hostGate: Gate): HeldSlots | Promise<HeldSlots> {
    const siteGate = gateOf(this.sites, site, this.siteLimit(site));
    const held: HeldSlots = { host, site, hostGate, siteGate };
    // A gate's wait never rejects: once the host slot is held, nothing before the task can throw.
    const siteWait = siteGate.take();
    if (siteWait) return siteWait.then(() => this.takeGlobal(held));
    return this.takeGlobal(held);
  }

  private takeGlobal(held: HeldSlots): HeldSlots | Promise<HeldSlots> {
    const wait = this.global.take();
    return wait ? wait.then(() => held) : held;
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
