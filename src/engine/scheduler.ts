import type { ActiveJob } from './job.js';

export interface SchedulerOptions {
  /** Most jobs alive as promises at once; a submitter waits when they are all taken. */
  window: number;
  /** Most live jobs per host; more of that host are parked as (seq, offset) numbers. */
  hostBacklog: number;
  /** Runs one job to its outcome; must not reject. */
  execute(job: ActiveJob): Promise<void>;
  /** Reads a parked job back from the joblog; undefined when it cannot be (it stays pending). */
  reload(seq: number, offset: number): Promise<ActiveJob | undefined>;
}

/** Parked jobs of one host: a queue of (seq, offset) pairs in a plain number array. */
class HostQueue {
  live = 0;
  private parked: number[] = [];
  private head = 0;

  park(seq: number, offset: number): void {
    this.parked.push(seq, offset);
  }

  get hasParked(): boolean {
    return this.head < this.parked.length;
  }

  unpark(): [number, number] {
    const pair: [number, number] = [this.parked[this.head]!, this.parked[this.head + 1]!];
    this.head += 2;
    if (this.head === this.parked.length) {
      this.parked = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.parked.length) {
      this.parked = this.parked.slice(this.head);
      this.head = 0;
    }
    return pair;
  }
}

/**
 * Eager, not a worker pool: every admitted job is its own promise at once and waits on its
 * limits. Admission is bounded so that millions of jobs never exist as promises together, and
 * a host that already has `hostBacklog` live jobs gets its further jobs parked as numbers, so the
 * window never fills up with one host's jobs while other hosts have work.
 */
export class Scheduler {
  private live = 0;
  private parked = 0;
  private stopped = false;
  private readonly hosts = new Map<string, HostQueue>();
  private roomWaiters: Array<() => void> = [];
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly options: SchedulerOptions) {}

  /** Admits a job; resolves once the caller may submit the next one. */
  async submit(job: ActiveJob): Promise<void> {
    while (this.live >= this.options.window && !this.stopped) {
      await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
    }
    if (this.stopped) return;
    let queue = this.hosts.get(job.host);
    if (!queue) {
      queue = new HostQueue();
      this.hosts.set(job.host, queue);
    }
    if (queue.live >= this.options.hostBacklog) {
      queue.park(job.record.seq, job.offset);
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
      const [seq, offset] = queue.unpark();
      this.parked--;
      queue.live++;
      void this.options
        .reload(seq, offset)
        .then((job) => (job && !this.stopped ? this.options.execute(job) : undefined))
        .then(() => this.settle(host, queue));
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
