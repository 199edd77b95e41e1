/**
 * Randomized stress test of the Scheduler, for the interleavings the unit tests in
 * scheduler.test.ts do not spell out. Each run drives one scheduler (a window of 1-5, six hosts
 * of three sites, each with a small random backlog) with a seeded random mix of: submits, which
 * wait for room as the input reader does, some of them unreadable when reloaded from the joblog;
 * jobs that finish; jobs that wait out a delay through awayFor, their waits resolved (now and
 * then rejected) steps later, so that jobs come back from away while others have taken their
 * places; and, in half the settings, stop() at a random step, with a wait settling in the same
 * tick. The limits are checked after every step and inside the jobs as they start, leave and come
 * back; at the end every wait is resolved and every job finished, and nothing may be left. Every
 * maxAway (none, one, a few, any) is run with and without stop(), with parked jobs kept only as
 * numbers (every one reloaded) and with a few kept whole. The seeds are fixed: a run is the same
 * every time, and a failure names its seed.
 */
import { describe, expect, it } from 'vitest';
import { activeJob, type ActiveJob } from '../../src/engine/job.js';
import { Scheduler } from '../../src/engine/scheduler.js';

/** Runs per setting, and steps per run: about 3 s for the 16 settings, 4.5 s with both of 2 cores busy. */
const SEEDS = [1, 2, 3, 4, 5, 6];
const STEPS = 150;

/** The scheduler's private counters and maps, read (never written) to check them. */
interface Internals {
  live: number;
  away: number;
  parked: number;
  parkedInMemory: number;
  /** Slots of the run the live jobs can fill. */
  filled: number;
  /** Whether a submitter has to wait. */
  holdsInput: boolean;
  hosts: Map<string, { live: number; away: number; slots: number; site: { key: string; slots: number } }>;
  sites: Map<string, unknown>;
}

/** Lets every pending reaction run, reloads included (each takes a turn of the event loop). */
async function drain(): Promise<void> {
  for (let i = 0; i < 4; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** A small seeded generator: the same seed gives the same run. */
function rng(seed: number): () => number {
  return () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
}

function deferred(): { promise: Promise<void>; resolve(): void; reject(error: Error): void } {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

type Action = 'finish' | 'away';

const HOSTS = ['a.s1.test:80', 'b.s1.test:80', 'a.s1.test:81', 'c.s2.test:80', 'd.s2.test:80', 'e.s3.test:80'];
const SITES = ['s1.test', 's2.test', 's3.test'];

/** One seeded run; throws the first limit broken, or what is wrong at the end. */
async function run(seed: number, maxAway: number, withStop: boolean, parkedInMemory: number): Promise<void> {
  const rand = rng(seed * 7919 + maxAway * 31 + (withStop ? 1 : 0) + parkedInMemory * 101);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
  const hostBacklog = new Map(HOSTS.map((host) => [host, 1 + Math.floor(rand() * 3)]));
  const siteBacklog = new Map(SITES.map((site) => [site, 1 + Math.floor(rand() * 4)]));
  const window = 1 + Math.floor(rand() * 5);
  // The run's download slots: few enough, often, that the live jobs fill them all and the input
  // waits once parked jobs reach their budget.
  const slots = rand() < 0.2 ? Infinity : 1 + Math.floor(rand() * 6);
  const readAhead = Math.floor(rand() * 4);

  const byOffset = new Map<number, ActiveJob>();
  const unreadable = new Set<number>();
  /** Jobs inside execute, and those waiting for the test to tell them what to do next. */
  const running = new Set<number>();
  const idleJobs = new Map<number, (action: Action) => void>();
  /** Jobs inside an awayFor that lent their places (the scheduler counts them away). */
  const lentAway = new Set<number>();
  /** Of those, the ones whose wait has settled: awayFor's finally may or may not have run yet. */
  const waitSettled = new Set<number>();
  /** Jobs back from a lent wait and still running: they may count over the limits. */
  const back = new Set<number>();
  /**
   * Jobs that ended while back, until the step is over: the scheduler counts a job in the window
   * until the reaction to its end has run, a few reactions after it left execute.
   */
  const endedBack = new Set<number>();
  const pendingWaits: Array<{ seq: number; wait: ReturnType<typeof deferred> }> = [];
  const executions = new Map<number, number>();
  const startOrder = new Map<string, number[]>();
  /** When (in events) each job started, and when its reload from the joblog was asked for. */
  let clock = 0;
  const startedAt = new Map<number, number>();
  const reloadedAt = new Map<number, number>();

  let firstFailure: unknown;
  /** Checks from inside a job must not make execute reject: the first failure is kept and thrown by the driver. */
  function check(where: string): void {
    if (firstFailure) return;
    try {
      checkLimits(where);
    } catch (error) {
      firstFailure = error;
    }
  }

  const scheduler = new Scheduler({
    window,
    // One backlog place a slot: the backlogs drawn above are the slots too.
    hostSlots: (host) => hostBacklog.get(host)!,
    siteSlots: (site) => siteBacklog.get(site)!,
    slots,
    backlogPerSlot: 1,
    parkedInMemory,
    readAhead,
    maxAway,
    async execute(job) {
      const seq = job.record.seq;
      running.add(seq);
      executions.set(seq, (executions.get(seq) ?? 0) + 1);
      startOrder.set(job.host, [...(startOrder.get(job.host) ?? []), seq]);
      startedAt.set(seq, clock++);
      check(`start of ${seq}`);
      for (;;) {
        const action = await new Promise<Action>((resolve) => idleJobs.set(seq, resolve));
        idleJobs.delete(seq);
        if (action === 'finish') break;
        const wait = deferred();
        pendingWaits.push({ seq, wait });
        const awayBefore = internals.away;
        const away = scheduler.awayFor(job.host, wait.promise);
        // Lent only while fewer than maxAway jobs are away, and only to a job its host knows.
        const lent = internals.away > awayBefore;
        if (lent) {
          lentAway.add(seq);
          back.delete(seq);
          waitSettled.delete(seq);
        }
        check(`${seq} going away`);
        await away.catch(() => undefined);
        if (lent) {
          lentAway.delete(seq);
          waitSettled.delete(seq);
          back.add(seq);
        }
        check(`${seq} back`);
      }
      running.delete(seq);
      if (back.delete(seq)) endedBack.add(seq);
    },
    async reload(seq, offset) {
      reloadedAt.set(seq, clock++);
      // A turn of the event loop, as a read from disk takes: other jobs start meanwhile.
      await new Promise((resolve) => setImmediate(resolve));
      if (unreadable.has(seq)) return undefined;
      return activeJob({ ...byOffset.get(offset)!.record }, offset);
    },
  });
  const internals = scheduler as unknown as Internals;

  function checkLimits(where: string): void {
    const hostRunning = new Map<string, number>();
    const siteRunning = new Map<string, number>();
    const siteBack = new Map<string, number>();
    let backCount = 0;
    for (const seq of running) {
      const job = byOffset.get(seq)!;
      const isBack = back.has(seq) || (lentAway.has(seq) && waitSettled.has(seq));
      hostRunning.set(job.host, (hostRunning.get(job.host) ?? 0) + 1);
      if (!lentAway.has(seq) || isBack) siteRunning.set(job.site, (siteRunning.get(job.site) ?? 0) + 1);
      if (isBack) {
        siteBack.set(job.site, (siteBack.get(job.site) ?? 0) + 1);
        backCount++;
      }
    }
    // A host never has more jobs running than its backlog, away or not: a host that asked for
    // a pause gets no more jobs meanwhile.
    for (const [host, n] of hostRunning) {
      expect(n, `${where}: host ${host} running`).toBeLessThanOrEqual(hostBacklog.get(host)!);
    }
    // A site's running jobs, those away aside, stay within its backlog, so its many hosts
    // never fill the window; only jobs back from away may count over it, by one each.
    for (const [site, n] of siteRunning) {
      const over = n - siteBacklog.get(site)!;
      expect(over, `${where}: site ${site} over its backlog by more than its jobs back from away`).toBeLessThanOrEqual(
        siteBack.get(site) ?? 0,
      );
    }
    // The away counter follows the jobs that lent their places (those whose wait has settled may
    // or may not have taken theirs back yet), and never passes maxAway: a place lent twice, or
    // never taken back, would let the input run over the window for good.
    const settledAway = [...lentAway].filter((seq) => waitSettled.has(seq)).length;
    expect(internals.away, `${where}: away counter`).toBeLessThanOrEqual(lentAway.size);
    expect(internals.away, `${where}: away counter`).toBeGreaterThanOrEqual(lentAway.size - settledAway);
    expect(internals.away, `${where}: away over maxAway`).toBeLessThanOrEqual(maxAway);
    // The window, which bounds the jobs alive as promises at once, counts jobs not away; only jobs
    // back from away may keep it over, by one each: a job that ends while it is over gives its
    // place up, so the excess never outlives them nor grows with every wait.
    const windowOver = internals.live - internals.away - window;
    expect(windowOver, `${where}: window over by more than its jobs back from away`).toBeLessThanOrEqual(backCount + endedBack.size);
    // Every running job holds a place in the window (a job being reloaded holds one too).
    expect(internals.live, `${where}: live counter`).toBeGreaterThanOrEqual(running.size);
    // What the live jobs can fill, kept as they come and go, is what their hosts' and sites'
    // counts give: a count that drifted would hold the input back for good, or never.
    const bySite = new Map<string, { sum: number; slots: number }>();
    for (const queue of internals.hosts.values()) {
      const site = bySite.get(queue.site.key) ?? { sum: 0, slots: queue.site.slots };
      site.sum += Math.min(queue.live - queue.away, queue.slots);
      bySite.set(queue.site.key, site);
    }
    const filled = [...bySite.values()].reduce((sum, site) => sum + Math.min(site.sum, site.slots), 0);
    expect(internals.filled, `${where}: slots filled`).toBe(filled);
  }

  let seq = 0;
  /**
   * Two submitters, as a resumed run with new input has (its pending jobs, its input): each
   * waits for room before it submits its next job, as the input reader does.
   */
  const submitters = [{ done: true }, { done: true }];
  const submitterOf = new Map<number, number>();
  const submitDone = (): boolean => submitters.every((s) => s.done);
  let stopped = false;
  /** Settles one pending wait, picked at random; rejected (an aborted sleep) with the chance given. */
  const settleSomeWait = (rejectChance = 0) => {
    const { seq: waiting, wait } = pendingWaits.splice(Math.floor(rand() * pendingWaits.length), 1)[0]!;
    waitSettled.add(waiting);
    if (rejectChance > 0 && rand() < rejectChance) wait.reject(new Error('wait aborted'));
    else wait.resolve();
  };
  const stopAt = withStop ? Math.floor(rand() * STEPS) : -1;
  // Jobs go away more often than they finish, and waits are resolved rarely: many jobs come back
  // over the window, which is when a site has to give its place up and wait in the starved queue.
  for (let step = 0; step < STEPS; step++) {
    if (step === stopAt) {
      // A wait settling in the same tick as stop(), just before or just after it.
      if (pendingWaits.length > 0 && rand() < 0.5) settleSomeWait();
      scheduler.stop();
      stopped = true;
      if (pendingWaits.length > 0 && rand() < 0.5) settleSomeWait();
    }
    const r = rand();
    const free = submitters.filter((s) => s.done);
    if (free.length > 0 && r < 0.45) {
      const submitter = pick(free);
      seq++;
      const job = activeJob({ t: 'job', seq, url: `http://${pick(HOSTS)}/f${seq}`, out: `f${seq}`, src: 'x' }, seq);
      byOffset.set(seq, job);
      submitterOf.set(seq, submitters.indexOf(submitter));
      if (rand() < 0.08) unreadable.add(seq);
      const admitted = scheduler.submit(job);
      if (admitted) {
        submitter.done = false;
        void admitted.then(() => (submitter.done = true));
      }
    } else if (r < 0.55 && pendingWaits.length > 0) {
      settleSomeWait(0.1);
    } else if (idleJobs.size > 0) {
      const job = pick([...idleJobs.keys()]);
      idleJobs.get(job)!(rand() < 0.7 ? 'away' : 'finish');
    }
    await drain();
    endedBack.clear();
    check(`step ${step}`);
    if (firstFailure) throw firstFailure;
    // Nobody is left waiting when the input may go on: the next wake could be a long transfer away.
    if (!stopped && !internals.holdsInput) expect(submitDone(), `step ${step}: a submitter sleeps while the input may go on`).toBe(true);
  }

  // Winding down: every wait resolved, every job finished, until nothing is left.
  for (let i = 0; i < 10_000 && (internals.live > 0 || !submitDone() || pendingWaits.length > 0); i++) {
    for (const { seq: waiting, wait } of pendingWaits.splice(0)) {
      waitSettled.add(waiting);
      wait.resolve();
    }
    for (const go of [...idleJobs.values()]) go('finish');
    await drain();
    endedBack.clear();
    check('winding down');
    if (firstFailure) throw firstFailure;
  }
  let idle = false;
  void scheduler.idle().then(() => (idle = true));
  await drain();
  // Nothing stays counted or stranded: a parked job nobody hands a place to would never run (a
  // starved site lost from its queue), and idle() would never resolve. After stop(), parked jobs
  // stay pending in the joblog and their hosts need not be dropped.
  if (stopped) {
    const left = { live: internals.live, away: internals.away, running: running.size };
    expect(left, 'left counted').toEqual({ live: 0, away: 0, running: 0 });
  } else {
    const left = {
      live: internals.live,
      away: internals.away,
      parked: internals.parked,
      parkedInMemory: internals.parkedInMemory,
      filled: internals.filled,
      hosts: [...internals.hosts.keys()],
      sites: [...internals.sites.keys()],
      running: running.size,
    };
    const empty = { live: 0, away: 0, parked: 0, parkedInMemory: 0, filled: 0, hosts: [], sites: [], running: 0 };
    expect(left, 'left counted or parked').toEqual(empty);
  }
  expect(idle, 'idle() resolved').toBe(true);

  // Every job runs exactly once: none lost while parked, none run twice. After stop() jobs not
  // started are left to the next run, and an unreadable reload is skipped.
  for (let job = 1; job <= seq; job++) {
    const n = executions.get(job) ?? 0;
    if (stopped || unreadable.has(job)) expect(n, `job ${job} executed ${n} times`).toBeLessThanOrEqual(1);
    else expect(n, `job ${job} executed ${n} times`).toBe(1);
  }

  // A host's jobs start in the order each submitter submitted them, with one known exception: a job whose
  // reload from the joblog is under way already holds its place, and a later job of its host
  // admitted meanwhile may start before the read is back (both are live at once). So a later
  // job y may start before an earlier x only when x's reload was asked for before y started.
  for (const [host, order] of startOrder) {
    for (let i = 0; i < order.length; i++) {
      for (let j = i + 1; j < order.length; j++) {
        const [first, then] = [order[i]!, order[j]!];
        // Two submitters' jobs have no order between them.
        if (first < then || submitterOf.get(first) !== submitterOf.get(then)) continue;
        const reload = reloadedAt.get(then);
        expect(
          reload !== undefined && reload < startedAt.get(first)!,
          `host ${host}: job ${first} started before job ${then}, whose reload was not under way`,
        ).toBe(true);
      }
    }
  }
}

describe('Scheduler under random load', () => {
  for (const maxAway of [0, 1, 3, 1000])
    for (const withStop of [false, true])
      for (const parkedInMemory of [0, 3]) {
        const setting = `maxAway ${maxAway}, ${withStop ? 'stop()' : 'no stop'}, parkedInMemory ${parkedInMemory}`;
        it(`keeps its limits and loses no job: ${setting}`, async () => {
          for (const seed of SEEDS) {
            try {
              await run(seed, maxAway, withStop, parkedInMemory);
            } catch (error) {
              if (error instanceof Error) error.message = `seed ${seed}: ${error.message}`;
              throw error;
            }
          }
        });
      }
});
