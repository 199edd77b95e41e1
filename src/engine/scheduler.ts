import { Fifo } from '../utils/fifo.js';
import type { ActiveJob } from './job.js';

export interface SchedulerOptions {
  /** Most jobs alive as promises at once; a submitter waits when they are all taken. */
  window: number;
  /** Download slots of a host, of a site (all its hosts), and of the run (the run's limits). */
  hostSlots(host: string): number;
  siteSlots(site: string): number;
  slots: number;
  /** Most live jobs of a host, and of a site, per download slot of it; more of it are parked. */
  backlogPerSlot: number;
  /** Parked jobs kept in memory as they are (1-2 KB each, with their URL objects); beyond, as (seq, offset). */
  parkedInMemory: number;
  /**
   * Most parked jobs the input is read past while the live jobs can fill every download slot
   * (see Scheduler.holdsInput).
   */
  readAhead: number;
  /** Most live jobs that wait out a delay (see awayFor) without a place in the window. */
  maxAway: number;
  /** Runs one job to its outcome; must not reject. */
  execute(job: ActiveJob): Promise<void>;
  /** Reads a parked job back from the joblog; undefined when it cannot be (it stays pending). */
  reload(seq: number, offset: number): Promise<ActiveJob | undefined>;
}

/** One site's live jobs, and its hosts whose parked jobs wait for room in the site, in turn. */
class SiteQueue {
  live = 0;
  /** Its live jobs that wait out a delay (see Scheduler.awayFor), not counted in `live`. */
  away = 0;
  /** Host queues of this site that exist; the site's entry goes with the last. */
  hosts = 0;
  /** Whether it waits for a place in the window (see Scheduler.starved). */
  starved = false;
  /** Slots of its hosts that their live jobs can fill (see HostQueue.fills). */
  filled = 0;
  readonly turns = new Fifo<HostQueue>();

  constructor(
    readonly key: string,
    readonly slots: number,
    readonly backlog: number,
  ) {}

  /** Slots of the run its live jobs can fill. */
  get fills(): number {
    return Math.min(this.filled, this.slots);
  }
}

/** One host's parked jobs: whole jobs while memory allows, (seq, offset) numbers beyond. */
class HostQueue {
  /** Its live jobs, those that wait out a delay included. */
  live = 0;
  away = 0;
  /** Whether it is in its site's turns. */
  inTurns = false;
  readonly inMemory = new Fifo<ActiveJob>();
  /** seq and offset, alternating. */
  readonly spilled = new Fifo<number>();

  constructor(
    readonly key: string,
    readonly slots: number,
    readonly backlog: number,
    readonly site: SiteQueue,
  ) {}

  /** Slots of its own its live jobs can fill: those that wait out a delay fill none. */
  get fills(): number {
    return Math.min(this.live - this.away, this.slots);
  }

  get hasParked(): boolean {
    return this.inMemory.size > 0 || this.spilled.size > 0;
  }
}

/**
 * Eager, not a worker pool: every admitted job is its own promise at once and waits on its
 * limits. Admission is bounded so that millions of jobs never exist as promises together (a
 * waiting job costs a few KB). A host that already has its backlog of live jobs, or whose site
 * has, gets its further jobs parked (kept whole up to a budget, as two numbers each beyond it,
 * read back from the joblog when their turn comes), so the window never fills up with the jobs
 * of one host, or of one site's many hosts, while other sites have work. A job that ends hands
 * its place to a parked job of its own site, the site's hosts taking turns; only a site with
 * nothing parked gives its place back to the window.
 */
export class Scheduler {
  private live = 0;
  /** Live jobs waiting out a delay, whose places in the window the input may use meanwhile. */
  private away = 0;
  private parked = 0;
  private parkedInMemory = 0;
  /** Slots of the run that the live jobs can fill: the sum of the sites' `fills`. */
  private filled = 0;
  private stopped = false;
  private readonly hosts = new Map<string, HostQueue>();
  private readonly sites = new Map<string, SiteQueue>();
  /**
   * Sites with parked jobs and none live or away that would hand their places on: they had to
   * give up a place while the window was over (jobs back from a wait count over it), and they
   * take the next places freed, before the input.
   */
  private readonly starved = new Fifo<SiteQueue>();
  private roomWaiters: Array<() => void> = [];
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly options: SchedulerOptions) {}

  /**
   * Admits a job. Returns nothing when it was started or parked at once, or a promise that
   * resolves once it was (the input had to wait, see holdsInput): the caller awaits only then,
   * so a list read at speed costs no await per line.
   */
  submit(job: ActiveJob): Promise<void> | undefined {
    if (this.holdsInput && !this.stopped) return this.submitWhenRoom(job);
    this.admit(job);
    return undefined;
  }

  /**
   * Lets a live job of `host` wait out a delay (a retry's backoff, its host's Retry-After)
   * without holding its place in the window or in its site's backlog, as long as fewer than
   * `maxAway` jobs do: otherwise hosts that asked for a pause would fill both with sleeping jobs
   * while other hosts wait. The place goes to a parked job of the site, or else to the input. The
   * job keeps its place in its host's backlog, so a host that is cooling down gets no more jobs
   * meanwhile. Back from the wait, it counts again, over the limits if need be.
   */
  async awayFor(host: string, wait: Promise<void>): Promise<void> {
    const queue = this.hosts.get(host);
    if (!queue || this.away >= this.options.maxAway) return wait;
    const { site } = queue;
    this.away++;
    site.away++;
    this.count(queue, 0, 1);
    // Lent only while the window is not over without it (see settle).
    if (!this.stopped && !this.full) this.handOn(site);
    try {
      await wait;
    } finally {
      this.away--;
      site.away--;
      this.count(queue, 0, -1);
    }
  }

  private get full(): boolean {
    return this.live - this.away >= this.options.window;
  }

  /**
   * Whether the input waits: the window is full, or `readAhead` jobs are parked and the live jobs
   * can fill every download slot of the run. Reading on past parked jobs is how other hosts get
   * work while one host is saturated; slots that no live job can fill are the sign that they need
   * it. Otherwise the jobs read on would only be parked: under dl's default limits, a list of
   * four hosts of one site was read to its end, all 100,000 jobs parked at once (10,000 of them
   * whole, 150 MB at the peak against 110 MB now, docs/architecture.md). Counted, not asked of
   * the limits: a slot is free for a moment after every transfer, and a job read back from the
   * joblog holds none while it is read.
   */
  private get holdsInput(): boolean {
    return this.full || (this.parked >= this.options.readAhead && this.filled >= this.options.slots);
  }

  /**
   * Changes a host's live jobs, or those of them that wait out a delay: its site's live jobs
   * (those not away) and the slots they all fill follow.
   */
  private count(queue: HostQueue, live: number, away: number): void {
    const { site } = queue;
    const hostBefore = queue.fills;
    const siteBefore = site.fills;
    queue.live += live;
    queue.away += away;
    site.live += live - away;
    site.filled += queue.fills - hostBefore;
    this.filled += site.fills - siteBefore;
  }

  private async submitWhenRoom(job: ActiveJob): Promise<void> {
    while (this.holdsInput && !this.stopped) {
      await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
    }
    this.admit(job);
    // A resumed run with new input has two readers (its pending jobs, its input): one woken for a
    // place, whose job was only parked, passes the wake on, or the other would sleep while a
    // slot waits for a job of its (found by review).
    this.wakeInput();
  }

  /** Wakes a reader waiting to submit, if the input may go on. */
  private wakeInput(): void {
    if (this.roomWaiters.length > 0 && !this.holdsInput) this.roomWaiters.shift()!();
  }

  private admit(job: ActiveJob): void {
    if (this.stopped) return;
    const queue = this.queueOf(job);
    const { site } = queue;
    const room = queue.live < queue.backlog && site.live < site.backlog;
    // Behind jobs of its host that are parked already, never before them.
    if (room && !queue.hasParked) {
      this.live++;
      this.launch(job, queue);
      return;
    }
    // Kept whole only while none of its host is kept as numbers: a host's parked jobs start in order.
    if (this.parkedInMemory < this.options.parkedInMemory && queue.spilled.size === 0) {
      queue.inMemory.push(job);
      this.parkedInMemory++;
    } else {
      queue.spilled.push(job.record.seq);
      queue.spilled.push(job.offset);
    }
    this.parked++;
    if (queue.live < queue.backlog) this.takeTurn(queue);
    // Held back only by its host's parked jobs, with room for one: the oldest of the site starts.
    const next = room ? this.nextInTurn(site) : undefined;
    if (next) {
      this.live++;
      this.unpark(next);
    }
  }

  private queueOf(job: ActiveJob): HostQueue {
    let queue = this.hosts.get(job.host);
    if (queue) return queue;
    const { backlogPerSlot } = this.options;
    let site = this.sites.get(job.site);
    if (!site) {
      const slots = this.options.siteSlots(job.site);
      site = new SiteQueue(job.site, slots, backlogPerSlot * slots);
      this.sites.set(job.site, site);
    }
    site.hosts++;
    const slots = this.options.hostSlots(job.host);
    queue = new HostQueue(job.host, slots, backlogPerSlot * slots, site);
    this.hosts.set(job.host, queue);
    return queue;
  }

  /** Stops admitting and unparking; parked jobs stay pending in the joblog. */
  stop(): void {
    this.stopped = true;
    this.parked = 0;
    for (const wake of this.roomWaiters.splice(0)) wake();
    this.checkIdle();
  }

  /** Resolves when no job is live or parked. */
  idle(): Promise<void> {
    if (this.live === 0 && this.parked === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private launch(job: ActiveJob, queue: HostQueue): void {
    this.count(queue, 1, 0);
    void this.options.execute(job).then(() => this.settle(queue));
  }

  /** Puts a host with parked jobs in its site's turns (once). */
  private takeTurn(queue: HostQueue): void {
    if (queue.inTurns) return;
    queue.inTurns = true;
    queue.site.turns.push(queue);
  }

  /** The next host of the site whose parked job may start now, if the site has room. */
  private nextInTurn(site: SiteQueue): HostQueue | undefined {
    if (site.live >= site.backlog) return undefined;
    for (let queue = site.turns.shift(); queue; queue = site.turns.shift()) {
      queue.inTurns = false;
      // A host at its own backlog takes its turn again when one of its jobs ends.
      if (queue.hasParked && queue.live < queue.backlog) return queue;
    }
    return undefined;
  }

  /** Starts a host's oldest parked job in a place of the window already counted (`live`). */
  private unpark(queue: HostQueue): void {
    this.parked--;
    this.count(queue, 1, 0);
    const kept = queue.inMemory.shift();
    if (kept) this.parkedInMemory--;
    if (queue.hasParked && queue.live < queue.backlog) this.takeTurn(queue);
    const next = kept ? Promise.resolve(kept) : this.options.reload(queue.spilled.shift()!, queue.spilled.shift()!);
    void next
      .then((job) => (job && !this.stopped ? this.options.execute(job) : undefined))
      .then(() => this.settle(queue));
  }

  private settle(queue: HostQueue): void {
    this.count(queue, -1, 0);
    const { site } = queue;
    this.live--;
    // Dropped when idle, even while another host of its site takes over its place.
    if (queue.live === 0 && !queue.hasParked && this.hosts.get(queue.key) === queue) {
      this.hosts.delete(queue.key);
      if (--site.hosts === 0) this.sites.delete(site.key);
    }
    if (!this.stopped) {
      if (queue.hasParked) this.takeTurn(queue);
      if (!this.full) return this.handOn(site);
      // The window is over (jobs back from a wait count over it): the place is given up. A
      // site with nothing left to hand a place on later waits for one.
      if (site.live + site.away === 0 && site.turns.size > 0 && !site.starved) {
        site.starved = true;
        this.starved.push(site);
      }
    }
    this.checkIdle();
  }

  /**
   * A place in the window is free: a parked job of `site` takes it (its hosts in turn), else one
   * of a starved site, else the input (see holdsInput).
   */
  private handOn(site: SiteQueue): void {
    let next = this.nextInTurn(site);
    while (!next && this.starved.size > 0) {
      const other = this.starved.shift()!;
      other.starved = false;
      next = this.nextInTurn(other);
    }
    if (next) {
      this.live++;
      this.unpark(next);
    }
    // Also after a parked job took the place: there is one fewer, and the place's own host may
    // have slots left that no live job can fill.
    this.wakeInput();
    this.checkIdle();
  }

  private checkIdle(): void {
    if (this.live === 0 && this.parked === 0) for (const wake of this.idleWaiters.splice(0)) wake();
  }
}
