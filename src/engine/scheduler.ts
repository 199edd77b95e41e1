import { Fifo } from '../utils/fifo.js';
import type { ActiveJob } from './job.js';

export interface SchedulerOptions {
  /** Most jobs alive as promises at once; a submitter waits when they are all taken. */
  window: number;
  /** Most live jobs per host; more of that host are parked. */
  hostBacklog: number;
  /** Parked jobs kept in memory as they are (1-2 KB each, with their URL objects); beyond, as (seq, offset). */
  parkedInMemory: number;
  /** Runs one job to its outcome; must not reject. */
  execute(job: ActiveJob): Promise<void>;
  /** Reads a parked job back from the joblog; undefined when it cannot be (it stays pending). */
  reload(seq: number, offset: number): Promise<ActiveJob | undefined>;
}

/** One host's parked jobs: whole jobs while memory allows, (seq, offset) numbers beyond. */
class HostQueue {
  live = 0;
  readonly inMemory = new Fifo<ActiveJob>();
  /** seq and offset, alternating. */
  readonly spilled = new Fifo<number>();

  get hasParked(): boolean {
    return this.inMemory.size > 0 || this.spilled.size > 0;
  }
}

/**
 * Eager, not a worker pool: every admitted job is its own promise at once and waits on its
 * limits. Admission is bounded so that millions of jobs never exist as promises together (a
 * waiting job costs a few KB), and a host that already has `hostBacklog` live jobs gets its
 * further jobs parked (kept whole up to a budget, as two numbers each beyond it, read back from
 * the joblog when their turn comes), so the window never fills up with one host's jobs while
 * other hosts have work.
 */
export class Scheduler {
  private live = 0;
  private parked = 0;
  private parkedInMemory = 0;
  private stopped = false;
  private readonly hosts = new Map<string, HostQueue>();
  private roomWaiters: Array<() => void> = [];
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly options: SchedulerOptions) {}

  /**
   * Admits a job. Returns nothing when it was started or parked at once, or a promise that
   * resolves once it was (the window was full): the caller awaits only then, so a list read
   * at speed costs no await per line.
   */
  submit(job: ActiveJob): Promise<void> | undefined {
    if (this.live >= this.options.window && !this.stopped) return this.submitWhenRoom(job);
    this.admit(job);
    return undefined;
  }

  private async submitWhenRoom(job: ActiveJob): Promise<void> {
    while (this.live >= this.options.window && !this.stopped) {
      await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
    }
    this.admit(job);
  }

  private admit(job: ActiveJob): void {
    if (this.stopped) return;
    let queue = this.hosts.get(job.host);
    if (!queue) {
      queue = new HostQueue();
      this.hosts.set(job.host, queue);
    }
    if (queue.live >= this.options.hostBacklog) {
      if (this.parkedInMemory < this.options.parkedInMemory) {
        queue.inMemory.push(job);
        this.parkedInMemory++;
      } else {
        queue.spilled.push(job.record.seq);
        queue.spilled.push(job.offset);
      }
      this.parked++;
      return;
    }
    this.live++;
    this.launch(job, queue);
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
    queue.live++;
    void this.options.execute(job).then(() => this.settle(job.host, queue));
  }

  private settle(host: string, queue: HostQueue): void {
    queue.live--;
    if (!this.stopped && queue.hasParked) {
      // The parked job takes over the finished job's place in the window.
      this.parked--;
      queue.live++;
      const kept = queue.inMemory.shift();
      if (kept) this.parkedInMemory--;
      const next = kept ? Promise.resolve(kept) : this.options.reload(queue.spilled.shift()!, queue.spilled.shift()!);
      void next.then((job) => (job && !this.stopped ? this.options.execute(job) : undefined)).then(() => this.settle(host, queue));
      return;
    }
    if (queue.live === 0 && !queue.hasParked) this.hosts.delete(host);
    this.live--;
    this.roomWaiters.shift()?.();
    this.checkIdle();
  }

  private checkIdle(): void {
    if (this.live === 0 && this.parked === 0) for (const wake of this.idleWaiters.splice(0)) wake();
  }
}
