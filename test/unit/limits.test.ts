import { describe, expect, it } from 'vitest';
import { Limits, type LimitOptions } from '../../src/engine/limits.js';

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every pending promise reaction run (a full turn of the event loop, not a timer). */
async function drain(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** A task whose start is observable and whose end is decided by the test. */
class Task {
  started = false;
  readonly gate = deferred<string>();
  constructor(
    readonly name: string,
    private readonly tracker: Tracker,
  ) {}
  run = (): Promise<string> => {
    this.started = true;
    this.tracker.enter(this);
    return this.gate.promise.finally(() => this.tracker.leave(this));
  };
  finish(): void {
    this.gate.resolve(this.name);
  }
}

/** Counts tasks running at once, overall and per label. */
class Tracker {
  running = new Set<Task>();
  maxRunning = 0;
  enter(task: Task): void {
    this.running.add(task);
    this.maxRunning = Math.max(this.maxRunning, this.running.size);
  }
  leave(task: Task): void {
    this.running.delete(task);
  }
  names(): string[] {
    return [...this.running].map((t) => t.name).sort();
  }
}

function options(overrides: Partial<LimitOptions>): LimitOptions {
  return { global: 100, perHost: 100, perSite: 100, ...overrides };
}

describe('Limits', () => {
  it('returns the value of the task', async () => {
    const limits = new Limits(options({}));
    await expect(limits.run('a.test:80', 'a.test', async () => 42)).resolves.toBe(42);
  });

  it('passes a rejection through and frees the slot', async () => {
    const limits = new Limits(options({ perHost: 1, global: 1 }));
    const tracker = new Tracker();
    const failing = limits.run('a.test:80', 'a.test', () => Promise.reject(new Error('boom')));
    const next = new Task('next', tracker);
    const nextRun = limits.run('a.test:80', 'a.test', next.run);
    await expect(failing).rejects.toThrow('boom');
    await drain();
    expect(next.started).toBe(true);
    next.finish();
    await expect(nextRun).resolves.toBe('next');
  });

  it('caps the concurrency of one host at perHost', async () => {
    const limits = new Limits(options({ perHost: 2 }));
    const tracker = new Tracker();
    const tasks = ['a1', 'a2', 'a3', 'a4', 'a5'].map((n) => new Task(n, tracker));
    const runs = tasks.map((t) => limits.run('a.test:80', 'a.test', t.run));
    await drain();
    expect(tracker.names()).toEqual(['a1', 'a2']);
    tasks[0]!.finish();
    await drain();
    expect(tracker.names()).toEqual(['a2', 'a3']);
    tasks[1]!.finish();
    tasks[2]!.finish();
    await drain();
    expect(tracker.names()).toEqual(['a4', 'a5']);
    tasks[3]!.finish();
    tasks[4]!.finish();
    expect(await Promise.all(runs)).toEqual(['a1', 'a2', 'a3', 'a4', 'a5']);
    expect(tracker.maxRunning).toBe(2);
  });

  it('a job waiting on a busy host does not hold a global slot', async () => {
    const limits = new Limits(options({ global: 2, perHost: 1 }));
    const tracker = new Tracker();
    const a1 = new Task('a1', tracker);
    const a2 = new Task('a2', tracker);
    const b1 = new Task('b1', tracker);
    const runs = [
      limits.run('a.test:80', 'a.test', a1.run),
      limits.run('a.test:80', 'a.test', a2.run),
      limits.run('b.test:80', 'b.test', b1.run),
    ];
    await drain();
    expect(tracker.names()).toEqual(['a1', 'b1']);
    expect(a2.started).toBe(false);
    a1.finish();
    await drain();
    expect(tracker.names()).toEqual(['a2', 'b1']);
    a2.finish();
    b1.finish();
    expect(await Promise.all(runs)).toEqual(['a1', 'a2', 'b1']);
    expect(tracker.maxRunning).toBe(2);
  });

  it('caps all jobs at the global limit', async () => {
    const limits = new Limits(options({ global: 3, perHost: 5 }));
    const tracker = new Tracker();
    const tasks = Array.from({ length: 6 }, (_, i) => new Task(`t${i}`, tracker));
    const runs = tasks.map((t, i) => limits.run(`h${i}.test:80`, `h${i}.test`, t.run));
    await drain();
    expect(tracker.running.size).toBe(3);
    for (const t of tasks) t.finish();
    await Promise.all(runs);
    expect(tracker.maxRunning).toBe(3);
  });

  it('caps the hosts of one site together at perSite', async () => {
    const limits = new Limits(options({ perSite: 2, perHost: 5, global: 10 }));
    const tracker = new Tracker();
    const a1 = new Task('a1', tracker);
    const b1 = new Task('b1', tracker);
    const a2 = new Task('a2', tracker);
    const b2 = new Task('b2', tracker);
    const other = new Task('other', tracker);
    const runs = [
      limits.run('a.example.com:443', 'example.com', a1.run),
      limits.run('b.example.com:443', 'example.com', b1.run),
      limits.run('a.example.com:443', 'example.com', a2.run),
      limits.run('b.example.com:443', 'example.com', b2.run),
      limits.run('other.org:443', 'other.org', other.run),
    ];
    await drain();
    expect(tracker.names()).toEqual(['a1', 'b1', 'other']);
    b1.finish();
    await drain();
    expect(tracker.names()).toEqual(['a1', 'a2', 'other']);
    a1.finish();
    await drain();
    expect(tracker.names()).toEqual(['a2', 'b2', 'other']);
    a2.finish();
    b2.finish();
    other.finish();
    await Promise.all(runs);
  });

  it('applies siteLimits overrides', async () => {
    const limits = new Limits(options({ perSite: 1, siteLimits: new Map([['big.com', 3]]) }));
    const tracker = new Tracker();
    const big = Array.from({ length: 4 }, (_, i) => new Task(`big${i}`, tracker));
    const small = Array.from({ length: 2 }, (_, i) => new Task(`small${i}`, tracker));
    const runs = [
      ...big.map((t, i) => limits.run(`h${i}.big.com:443`, 'big.com', t.run)),
      ...small.map((t, i) => limits.run(`h${i}.small.com:443`, 'small.com', t.run)),
    ];
    await drain();
    expect(tracker.names()).toEqual(['big0', 'big1', 'big2', 'small0']);
    for (const t of [...big, ...small]) t.finish();
    await Promise.all(runs);
  });

  describe('hostLimit', () => {
    it('is perHost without overrides', () => {
      expect(new Limits(options({ perHost: 4 })).hostLimit('a.test:80')).toBe(4);
    });

    it('uses an override by host:port for that port only', () => {
      const limits = new Limits(options({ perHost: 4, hostLimits: new Map([['a.test:8080', 9]]) }));
      expect(limits.hostLimit('a.test:8080')).toBe(9);
      expect(limits.hostLimit('a.test:80')).toBe(4);
      expect(limits.hostLimit('b.test:8080')).toBe(4);
    });

    it('uses an override by bare hostname for every port', () => {
      const limits = new Limits(options({ perHost: 4, hostLimits: new Map([['a.test', 7]]) }));
      expect(limits.hostLimit('a.test:80')).toBe(7);
      expect(limits.hostLimit('a.test:443')).toBe(7);
      expect(limits.hostLimit('a.test:8080')).toBe(7);
      expect(limits.hostLimit('b.a.test:80')).toBe(4);
      expect(limits.hostLimit('xa.test:80')).toBe(4);
    });

    it('prefers host:port over the bare hostname', () => {
      const limits = new Limits(
        options({ perHost: 4, hostLimits: new Map([['a.test', 7], ['a.test:8080', 1]]) }),
      );
      expect(limits.hostLimit('a.test:8080')).toBe(1);
      expect(limits.hostLimit('a.test:80')).toBe(7);
    });

    it('works with IPv6 host keys', () => {
      const limits = new Limits(options({ perHost: 4, hostLimits: new Map([['[::1]', 2]]) }));
      expect(limits.hostLimit('[::1]:8080')).toBe(2);
    });
  });

  it('enforces a host:port override when running', async () => {
    const limits = new Limits(options({ perHost: 1, hostLimits: new Map([['a.test:8080', 3]]) }));
    const tracker = new Tracker();
    const wide = Array.from({ length: 4 }, (_, i) => new Task(`w${i}`, tracker));
    const narrow = Array.from({ length: 2 }, (_, i) => new Task(`n${i}`, tracker));
    const runs = [
      ...wide.map((t) => limits.run('a.test:8080', 'a.test', t.run)),
      ...narrow.map((t) => limits.run('a.test:80', 'a.test', t.run)),
    ];
    await drain();
    expect(tracker.names()).toEqual(['n0', 'w0', 'w1', 'w2']);
    for (const t of [...wide, ...narrow]) t.finish();
    await Promise.all(runs);
  });

  it('enforces a bare-hostname override when running', async () => {
    const limits = new Limits(options({ perHost: 3, hostLimits: new Map([['slow.test', 1]]) }));
    const tracker = new Tracker();
    const slow = Array.from({ length: 3 }, (_, i) => new Task(`s${i}`, tracker));
    const runs = slow.map((t) => limits.run('slow.test:443', 'slow.test', t.run));
    await drain();
    expect(tracker.names()).toEqual(['s0']);
    slow[0]!.finish();
    await drain();
    expect(tracker.names()).toEqual(['s1']);
    slow[1]!.finish();
    slow[2]!.finish();
    await Promise.all(runs);
    expect(tracker.maxRunning).toBe(1);
  });

  it('a host used again after going idle gets its limit again', async () => {
    const limits = new Limits(options({ perHost: 1 }));
    const tracker = new Tracker();
    const first = new Task('first', tracker);
    const run1 = limits.run('a.test:80', 'a.test', first.run);
    first.finish();
    await run1;
    const x = new Task('x', tracker);
    const y = new Task('y', tracker);
    const runs = [limits.run('a.test:80', 'a.test', x.run), limits.run('a.test:80', 'a.test', y.run)];
    await drain();
    expect(tracker.names()).toEqual(['x']);
    x.finish();
    y.finish();
    await Promise.all(runs);
    expect(tracker.maxRunning).toBe(1);
  });

  it('acquire() hands free slots over at once, and the slot of a full host as a promise kept on release()', async () => {
    const limits = new Limits(options({ perHost: 1 }));
    const first = limits.acquire('a.test:80', 'a.test');
    expect(first).not.toBeInstanceOf(Promise);
    const second = limits.acquire('a.test:80', 'a.test');
    expect(second).toBeInstanceOf(Promise);
    let got = false;
    void (second as Promise<unknown>).then(() => (got = true));
    // Another host is not held up by the full one.
    expect(limits.acquire('b.test:80', 'b.test')).not.toBeInstanceOf(Promise);
    await drain();
    expect(got).toBe(false);
    limits.release(first as Exclude<typeof first, Promise<unknown>>);
    await drain();
    expect(got).toBe(true);
  });

  it('a cooldown over, or of another host, does not keep acquire() on its slower path', () => {
    const limits = new Limits(options({ perHost: 2 }));
    limits.coolDown('a.test:80', Date.now() - 1); // asked for and already over
    expect(limits.acquire('b.test:80', 'b.test')).not.toBeInstanceOf(Promise);
    expect(limits.acquire('a.test:80', 'a.test')).not.toBeInstanceOf(Promise);
    limits.coolDown('c.test:80', Date.now() + 60_000);
    expect(limits.acquire('b.test:80', 'b.test')).not.toBeInstanceOf(Promise);
    const cooling = limits.acquire('c.test:80', 'c.test', AbortSignal.abort());
    expect(cooling).toBeInstanceOf(Promise);
  });
});

