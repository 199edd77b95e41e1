import { describe, expect, it } from 'vitest';
import { activeJob, type ActiveJob } from '../../src/engine/job.js';
import { Scheduler, type SchedulerOptions } from '../../src/engine/scheduler.js';
import type { JobRecord } from '../../src/joblog/records.js';

function deferred(): { promise: Promise<void>; resolve(): void } {
  let resolve!: () => void;
  const promise = new Promise<void>((res) => (resolve = res));
  return { promise, resolve };
}

/** Lets every pending promise reaction run (a full turn of the event loop, not a timer). */
async function drain(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

function record(seq: number, url: string): JobRecord {
  return { t: 'job', seq, url, out: `f${seq}`, src: `test:${seq}` };
}

/** Tracks a promise's settlement without awaiting it. */
/** Whether a submit has let the caller go on: at once (nothing returned), or when its promise settles. */
function watch(promise: Promise<unknown> | undefined): { settled: boolean } {
  const state = { settled: promise === undefined };
  void promise?.then(() => (state.settled = true));
  return state;
}

/**
 * A scheduler whose jobs run until the test finishes them. Jobs are made with `job(seq, host)`;
 * `reload` finds them again by offset, as the joblog would.
 */
function harness(window: number, hostBacklog: number, parkedInMemory = 0, siteBacklog = Infinity, maxAway = 0, slots = Infinity) {
  const byOffset = new Map<number, ActiveJob>();
  const gates = new Map<number, ReturnType<typeof deferred>>();
  const running = new Set<number>();
  const executed: number[] = [];
  const reloads: Array<[number, number]> = [];
  const unreadable = new Set<number>();
  let maxLive = 0;

  const options: SchedulerOptions = {
    window,
    // One backlog place a slot: a host's backlog is its slots too.
    hostSlots: () => hostBacklog,
    siteSlots: () => siteBacklog,
    slots,
    backlogPerSlot: 1,
    parkedInMemory,
    readAhead: parkedInMemory,
    maxAway,
    async execute(job) {
      const seq = job.record.seq;
      executed.push(seq);
      running.add(seq);
      maxLive = Math.max(maxLive, running.size);
      const gate = deferred();
      gates.set(seq, gate);
      await gate.promise;
      running.delete(seq);
    },
    async reload(seq, offset) {
      reloads.push([seq, offset]);
      if (unreadable.has(seq)) return undefined;
      const job = byOffset.get(offset);
      // Hand back a fresh object, as a real reload from disk would.
      return job && activeJob({ ...job.record }, offset);
    },
  };
  const scheduler = new Scheduler(options);

  return {
    scheduler,
    executed,
    reloads,
    unreadable,
    running: () => [...running].sort((a, b) => a - b),
    maxLive: () => maxLive,
    job(seq: number, host: string): ActiveJob {
      const offset = seq * 1000 + 7;
      const job = activeJob(record(seq, `http://${host}/file${seq}`), offset);
      byOffset.set(offset, job);
      return job;
    },
    /** Finishes a running job and gives back what runs once the scheduler has moved on. */
    async end(seq: number): Promise<number[]> {
      this.finish(seq);
      await drain();
      return this.running();
    },
    finish(seq: number): void {
      const gate = gates.get(seq);
      if (!gate) throw new Error(`job ${seq} is not running`);
      gate.resolve();
    },
  };
}

describe('Scheduler', () => {
  it('runs submitted jobs at once and idle() resolves when all are done', async () => {
    const h = harness(10, 10);
    await h.scheduler.submit(h.job(1, 'a.test'));
    await h.scheduler.submit(h.job(2, 'b.test'));
    await drain();
    expect(h.running()).toEqual([1, 2]);
    const idle = watch(h.scheduler.idle());
    h.finish(1);
    await drain();
    expect(idle.settled).toBe(false);
    h.finish(2);
    await drain();
    expect(idle.settled).toBe(true);
  });

  it('idle() resolves at once when nothing was submitted', async () => {
    const h = harness(2, 2);
    await expect(h.scheduler.idle()).resolves.toBeUndefined();
  });

  it('submit() does not resolve while `window` jobs are live', async () => {
    const h = harness(2, 10);
    await h.scheduler.submit(h.job(1, 'a.test'));
    await h.scheduler.submit(h.job(2, 'b.test'));
    const third = watch(h.scheduler.submit(h.job(3, 'c.test')));
    await drain();
    expect(third.settled).toBe(false);
    expect(h.executed).toEqual([1, 2]);
    h.finish(2);
    await drain();
    expect(third.settled).toBe(true);
    expect(h.running()).toEqual([1, 3]);
    h.finish(1);
    h.finish(3);
    await h.scheduler.idle();
    expect(h.maxLive()).toBe(2);
  });

  it('parks jobs of a host past hostBacklog and runs them later via reload, in order', async () => {
    const h = harness(10, 1);
    for (const seq of [1, 2, 3, 4]) await h.scheduler.submit(h.job(seq, 'a.test'));
    await drain();
    expect(h.executed).toEqual([1]);
    expect(h.reloads).toEqual([]);
    const idle = watch(h.scheduler.idle());

    h.finish(1);
    await drain();
    expect(h.reloads).toEqual([[2, 2007]]);
    expect(h.executed).toEqual([1, 2]);
    h.finish(2);
    await drain();
    expect(h.executed).toEqual([1, 2, 3]);
    h.finish(3);
    await drain();
    expect(h.executed).toEqual([1, 2, 3, 4]);
    expect(h.reloads).toEqual([
      [2, 2007],
      [3, 3007],
      [4, 4007],
    ]);
    expect(idle.settled).toBe(false);
    h.finish(4);
    await drain();
    expect(idle.settled).toBe(true);
    expect(h.maxLive()).toBe(1);
  });

  it('keeps parked jobs in memory up to its budget and reads only the rest back', async () => {
    const h = harness(10, 1, 1);
    for (const seq of [1, 2, 3]) await h.scheduler.submit(h.job(seq, 'a.test'));
    await drain();
    h.finish(1);
    await drain();
    expect(h.executed).toEqual([1, 2]);
    expect(h.reloads).toEqual([]); // job 2 was kept whole
    h.finish(2);
    await drain();
    expect(h.executed).toEqual([1, 2, 3]);
    expect(h.reloads).toEqual([[3, 3007]]); // job 3 was over the budget: read back
    h.finish(3);
    await h.scheduler.idle();
  });

  it('stops reading on once readAhead jobs are parked while the live jobs fill every slot', async () => {
    // Two hosts of two slots each fill the run's four: a job read on could only be parked.
    const h = harness(10, 2, 1, Infinity, 0, 4);
    for (const [seq, host] of [[1, 'a.test'], [2, 'a.test'], [3, 'b.test'], [4, 'b.test'], [5, 'a.test']] as const) {
      expect(h.scheduler.submit(h.job(seq, host)), `job ${seq} admitted at once`).toBeUndefined();
    }
    await drain();
    expect(h.executed).toEqual([1, 2, 3, 4]); // job 5 parked, whole: the budget is taken
    const sixth = watch(h.scheduler.submit(h.job(6, 'b.test')));
    await drain();
    expect(sixth.settled).toBe(false); // the window has room, but job 6 would only be parked
    // Job 1 ends: job 5 takes its place, no job is parked any more, the input reads on.
    expect(await h.end(1)).toEqual([2, 3, 4, 5]);
    expect(sixth.settled).toBe(true);
    expect(h.executed).toEqual([1, 2, 3, 4, 5]); // job 6 is parked behind b.test's two
    expect(h.reloads).toEqual([]); // and kept whole, in the budget job 5 gave back
    for (const seq of [2, 3, 4, 5]) h.finish(seq);
    await drain();
    h.finish(6);
    await h.scheduler.idle();
    expect(h.reloads).toEqual([]);
  });

  it('reads on past readAhead parked jobs while the live jobs leave a slot unfilled', async () => {
    // One host of two slots in a run of four: two slots wait for jobs of other hosts.
    const h = harness(10, 2, 1, Infinity, 0, 4);
    for (const seq of [1, 2, 3, 4]) expect(h.scheduler.submit(h.job(seq, 'a.test')), `job ${seq} admitted at once`).toBeUndefined();
    // Jobs 3 and 4 parked (4 as numbers, over the budget), and the input read on to job 5.
    expect(h.scheduler.submit(h.job(5, 'c.test'))).toBeUndefined();
    await drain();
    expect(h.executed).toEqual([1, 2, 5]);
    for (const seq of [1, 2]) h.finish(seq);
    await drain();
    expect(h.executed).toEqual([1, 2, 5, 3, 4]);
    expect(h.reloads).toEqual([[4, 4007]]);
    for (const seq of [3, 4, 5]) h.finish(seq);
    await h.scheduler.idle();
  });

  it('passes a wake on between two submitters: one whose job was only parked does not leave the other asleep', async () => {
    // A resumed run with new input submits from two readers. Hosts of one slot, two in the run.
    const h = harness(10, 1, 1, 10, 0, 2);
    expect(h.scheduler.submit(h.job(1, 'a.test'))).toBeUndefined();
    expect(h.scheduler.submit(h.job(2, 'a.test'))).toBeUndefined(); // parked: readAhead reached
    expect(h.scheduler.submit(h.job(3, 'b.test'))).toBeUndefined(); // both slots filled: input held
    const resumed = watch(h.scheduler.submit(h.job(4, 'a.test'))); // the first reader waits
    const input = watch(h.scheduler.submit(h.job(5, 'c.test'))); // and so does the second
    await drain();
    expect([resumed.settled, input.settled]).toEqual([false, false]);
    // b.test's job ends: a slot is free. The first reader is woken, and its job is only parked.
    expect(await h.end(3)).toEqual([1, 5]); // the second was woken in turn: c.test's job runs
    expect([resumed.settled, input.settled]).toEqual([true, true]);
    h.finish(1);
    await drain();
    h.finish(2);
    await drain();
    h.finish(4);
    h.finish(5);
    await h.scheduler.idle();
    expect(h.executed).toEqual([1, 3, 5, 2, 4]);
  });

  it("keeps a host's parked jobs in order when some were kept whole and some as numbers", async () => {
    const h = harness(10, 1, 1);
    await h.scheduler.submit(h.job(1, 'a.test'));
    await h.scheduler.submit(h.job(2, 'b.test'));
    await h.scheduler.submit(h.job(3, 'b.test')); // kept whole: the budget is now taken
    await h.scheduler.submit(h.job(4, 'a.test')); // kept as numbers
    h.finish(2);
    await drain(); // job 3 runs, and the budget is free again
    await h.scheduler.submit(h.job(5, 'a.test')); // behind job 4, so kept as numbers too
    h.finish(1);
    await drain();
    expect(h.executed).toEqual([1, 2, 3, 4]);
    h.finish(4);
    await drain();
    expect(h.executed).toEqual([1, 2, 3, 4, 5]);
    h.finish(3);
    h.finish(5);
    await h.scheduler.idle();
  });

  it('lets the input use the window place of a job that waits out a delay, and counts it again after', async () => {
    const h = harness(2, 10, 0, Infinity, 1);
    await h.scheduler.submit(h.job(1, 'a.test'));
    await h.scheduler.submit(h.job(2, 'b.test'));
    const third = watch(h.scheduler.submit(h.job(3, 'c.test')));
    await drain();
    expect(third.settled).toBe(false);
    // Job 1 waits out its host's Retry-After: job 3 may start meanwhile.
    const pause = deferred();
    const back = watch(h.scheduler.awayFor('a.test:80', pause.promise));
    await drain();
    expect(third.settled).toBe(true);
    expect(h.running()).toEqual([1, 2, 3]);
    // Only one may be away (maxAway): a second waiting job keeps its place.
    const second = watch(h.scheduler.awayFor('b.test:80', new Promise<void>(() => undefined)));
    const fourth = watch(h.scheduler.submit(h.job(4, 'd.test')));
    await drain();
    expect(second.settled).toBe(false);
    expect(fourth.settled).toBe(false);
    // Back from its wait, job 1 counts again: three live in a window of two.
    pause.resolve();
    await drain();
    expect(back.settled).toBe(true);
    h.finish(1);
    await drain();
    expect(fourth.settled).toBe(false);
    h.finish(2);
    await drain();
    expect(fourth.settled).toBe(true);
    expect(h.running()).toEqual([3, 4]);
    h.finish(3);
    h.finish(4);
    await h.scheduler.idle();
  });

  it('gives up the place of a job that ends while the window is over, and its host waits for the next', async () => {
    const h = harness(1, 1, 0, Infinity, 1);
    await h.scheduler.submit(h.job(1, 'a.test'));
    const pause = deferred();
    void h.scheduler.awayFor('a.test:80', pause.promise);
    await h.scheduler.submit(h.job(2, 'a.test')); // parked: a.test is at its backlog
    await h.scheduler.submit(h.job(3, 'b.test')); // in the place job 1 lent
    await drain();
    expect(h.running()).toEqual([1, 3]);
    pause.resolve();
    await drain();
    // Job 1 is back: two live jobs in a window of one. Its end must not keep the window over.
    const fourth = watch(h.scheduler.submit(h.job(4, 'c.test')));
    expect(await h.end(1)).toEqual([3]);
    expect(fourth.settled).toBe(false);
    // The next place goes to a.test's parked job, before the input.
    expect(await h.end(3)).toEqual([2]);
    expect(fourth.settled).toBe(false);
    h.finish(2);
    await drain();
    expect(fourth.settled).toBe(true);
    h.finish(4);
    await h.scheduler.idle();
    expect(h.executed).toEqual([1, 3, 2, 4]);
  });

  it("lends a waiting job's place in its site to a parked job of another host of the site", async () => {
    const h = harness(10, 10, 0, 1, 5);
    await h.scheduler.submit(h.job(1, 'a.site.test'));
    await h.scheduler.submit(h.job(2, 'b.site.test'));
    await drain();
    expect(h.running()).toEqual([1]);
    // Job 1 waits out a.site.test's Retry-After: b.site.test's job may run meanwhile.
    const pause = deferred();
    const back = watch(h.scheduler.awayFor('a.site.test:80', pause.promise));
    await drain();
    expect(h.running()).toEqual([1, 2]);
    // a.site.test keeps its own place: its next job is parked, not started.
    await h.scheduler.submit(h.job(3, 'a.site.test'));
    pause.resolve();
    await drain();
    expect(back.settled).toBe(true);
    expect(h.running()).toEqual([1, 2]);
    h.finish(1);
    expect(await h.end(2)).toEqual([3]);
    h.finish(3);
    await h.scheduler.idle();
    expect(h.executed).toEqual([1, 2, 3]);
  });

  it("does not block other hosts behind one host's parked jobs", async () => {
    const h = harness(2, 1);
    // Parked jobs take no window slot, so their submits return at once.
    for (const seq of [1, 2, 3, 4, 5]) await h.scheduler.submit(h.job(seq, 'a.test'));
    await h.scheduler.submit(h.job(6, 'b.test'));
    await drain();
    expect(h.running()).toEqual([1, 6]);
    // The window is now full with one job of each host.
    const next = watch(h.scheduler.submit(h.job(7, 'c.test')));
    await drain();
    expect(next.settled).toBe(false);
    // A finished job of a.test hands its place to a parked one of a.test: the window stays full.
    expect(await h.end(1)).toEqual([2, 6]);
    expect(next.settled).toBe(false);
    // A finished b.test job frees a slot for c.test.
    h.finish(6);
    await drain();
    expect(next.settled).toBe(true);
    expect(h.running()).toEqual([2, 7]);
    for (const seq of [2, 7, 3, 4, 5]) {
      h.finish(seq);
      await drain();
    }
    await h.scheduler.idle();
    expect(h.executed).toEqual([1, 6, 2, 7, 3, 4, 5]);
  });

  it('runs up to hostBacklog jobs of one host before parking', async () => {
    const h = harness(10, 2);
    for (const seq of [1, 2, 3]) await h.scheduler.submit(h.job(seq, 'a.test'));
    await drain();
    expect(h.running()).toEqual([1, 2]);
    expect(await h.end(2)).toEqual([1, 3]);
    h.finish(1);
    h.finish(3);
    await h.scheduler.idle();
  });

  it('treats two ports of one machine as two hosts', async () => {
    const h = harness(10, 1);
    await h.scheduler.submit(h.job(1, 'a.test:8080'));
    await h.scheduler.submit(h.job(2, 'a.test:8081'));
    await h.scheduler.submit(h.job(3, 'a.test:8080'));
    await drain();
    expect(h.running()).toEqual([1, 2]);
    h.finish(1);
    h.finish(2);
    await drain();
    h.finish(3);
    await h.scheduler.idle();
  });

  it('skips a parked job that cannot be reloaded and goes on with the next', async () => {
    const h = harness(10, 1);
    for (const seq of [1, 2, 3]) await h.scheduler.submit(h.job(seq, 'a.test'));
    h.unreadable.add(2);
    await drain();
    h.finish(1);
    await drain();
    expect(h.reloads.map(([seq]) => seq)).toEqual([2, 3]);
    expect(h.executed).toEqual([1, 3]);
    h.finish(3);
    await h.scheduler.idle();
  });

  it('stop() drops parked jobs; idle() resolves once the live ones finish', async () => {
    const h = harness(10, 1);
    for (const seq of [1, 2, 3]) await h.scheduler.submit(h.job(seq, 'a.test'));
    await h.scheduler.submit(h.job(4, 'b.test'));
    await drain();
    expect(h.running()).toEqual([1, 4]);
    h.scheduler.stop();
    const idle = watch(h.scheduler.idle());
    await drain();
    expect(idle.settled).toBe(false);
    h.finish(1);
    await drain();
    expect(h.reloads).toEqual([]);
    expect(idle.settled).toBe(false);
    h.finish(4);
    await drain();
    expect(idle.settled).toBe(true);
    expect(h.executed).toEqual([1, 4]);
  });

  it('stop() wakes a waiting submitter without running its job, and later submits are ignored', async () => {
    const h = harness(1, 10);
    await h.scheduler.submit(h.job(1, 'a.test'));
    const waiting = watch(h.scheduler.submit(h.job(2, 'b.test')));
    await drain();
    expect(waiting.settled).toBe(false);
    h.scheduler.stop();
    await drain();
    expect(waiting.settled).toBe(true);
    await h.scheduler.submit(h.job(3, 'c.test'));
    h.finish(1);
    await h.scheduler.idle();
    await drain();
    expect(h.executed).toEqual([1]);
  });

  it('stop() with nothing live resolves idle even if jobs were parked', async () => {
    const h = harness(10, 1);
    await h.scheduler.submit(h.job(1, 'a.test'));
    await h.scheduler.submit(h.job(2, 'a.test'));
    await drain();
    h.finish(1);
    await drain(); // job 2 now runs in job 1's place
    await h.scheduler.submit(h.job(3, 'a.test')); // parked behind 2
    h.scheduler.stop();
    h.finish(2);
    await h.scheduler.idle();
    expect(h.executed).toEqual([1, 2]);
  });

  it('keeps every job of a long single-host run in order through parking', async () => {
    const h = harness(4, 2);
    const n = 50;
    for (let seq = 1; seq <= n; seq++) await h.scheduler.submit(h.job(seq, 'a.test'));
    // Finish jobs one at a time in the order they started until all have run.
    for (let i = 0; i < n; i++) {
      await drain();
      h.finish(h.executed[i]!);
    }
    await h.scheduler.idle();
    expect(h.executed).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    expect(h.maxLive()).toBe(2);
  });

  it("parks a site's jobs past its siteBacklog, so the hosts of one strict site never fill the window", async () => {
    // Four hosts of one site (say CDN shards) under one site limit: without a site backlog they
    // would take the whole window with jobs waiting on the site, and other sites would wait.
    const h = harness(8, 2, 0, 4);
    let seq = 0;
    for (let i = 0; i < 4; i++) for (const shard of ['s1', 's2', 's3', 's4']) await h.scheduler.submit(h.job(++seq, `${shard}.cdn.test`));
    const other = watch(h.scheduler.submit(h.job(100, 'other.test')));
    await drain();
    expect(other.settled).toBe(true);
    expect(h.running()).toEqual([1, 2, 3, 4, 100]);
    // A finished job of the site hands its place to the site's next host in turn.
    expect(await h.end(1)).toEqual([2, 3, 4, 5, 100]);
    h.finish(100);
    expect(await h.end(2)).toEqual([3, 4, 5, 6]);
    for (let i = 0; i < 16; i++) {
      const [first] = h.running();
      if (first === undefined) break;
      h.finish(first);
      await drain();
    }
    await h.scheduler.idle();
    expect(h.executed).toEqual([1, 2, 3, 4, 100, 5, 6, ...Array.from({ length: 10 }, (_, i) => i + 7)]);
    expect(h.maxLive()).toBe(5);
  });

  it("takes a site's hosts in turn as its jobs finish, each host's jobs in order", async () => {
    const h = harness(10, 10, 0, 2);
    for (const seq of [1, 2, 3, 4]) await h.scheduler.submit(h.job(seq, 'a.site.test'));
    for (const seq of [5, 6]) await h.scheduler.submit(h.job(seq, 'b.site.test'));
    await drain();
    expect(h.running()).toEqual([1, 2]);
    expect(await h.end(1)).toEqual([2, 3]);
    // a.site.test had its turn: b.site.test is next, although a.site.test parked job 4 first.
    expect(await h.end(2)).toEqual([3, 5]);
    expect(await h.end(3)).toEqual([4, 5]);
    expect(await h.end(5)).toEqual([4, 6]);
    h.finish(4);
    h.finish(6);
    await h.scheduler.idle();
    expect(h.executed).toEqual([1, 2, 3, 5, 4, 6]);
  });

  it('gives a host whose own backlog is full its turn in the site once one of its jobs ends', async () => {
    const h = harness(10, 1, 0, 2);
    for (const seq of [1, 2]) await h.scheduler.submit(h.job(seq, 'a.site.test'));
    await h.scheduler.submit(h.job(3, 'b.site.test'));
    await drain();
    expect(h.running()).toEqual([1, 3]);
    h.finish(3);
    await drain();
    // Room in the site, but a.site.test is at its own backlog: job 2 waits for job 1.
    expect(h.running()).toEqual([1]);
    expect(await h.end(1)).toEqual([2]);
    h.finish(2);
    await h.scheduler.idle();
  });
});

