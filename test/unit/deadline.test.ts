import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withDeadline } from '../../src/utils/deadline.js';

const untilAborted = (signal: AbortSignal): Promise<unknown> =>
  new Promise((resolve) => signal.addEventListener('abort', () => resolve(signal.reason), { once: true }));

describe('withDeadline', () => {
  it('aborts with a TimeoutError when the time runs out', async () => {
    const deadline = withDeadline(new AbortController().signal, 30);
    const reason = await untilAborted(deadline.signal);
    expect((reason as DOMException).name).toBe('TimeoutError');
    expect(deadline.timedOut()).toBe(true);
    deadline.clear();
  });

  it('aborts with the parent, with its reason, and then it has not timed out', async () => {
    const parent = new AbortController();
    const deadline = withDeadline(parent.signal, 60_000);
    const aborted = untilAborted(deadline.signal);
    parent.abort(new Error('stop'));
    expect(((await aborted) as Error).message).toBe('stop');
    expect(deadline.timedOut()).toBe(false);
    deadline.clear();
    expect(withDeadline(parent.signal, 60_000).signal.aborted).toBe(true); // a parent aborted already
  });

  it('never aborts once cleared', async () => {
    const deadline = withDeadline(new AbortController().signal, 20);
    deadline.clear();
    const later = withDeadline(new AbortController().signal, 80);
    await untilAborted(later.signal);
    expect(deadline.signal.aborted).toBe(false);
  });

  it('still fires after a garbage collection (AbortSignal.any with AbortSignal.timeout does not on Node 20)', () => {
    const module = JSON.stringify(join(import.meta.dirname, '../../dist/utils/deadline.js'));
    const script = `const { withDeadline } = await import(${module});
const ours = withDeadline(new AbortController().signal, 50).signal;
setTimeout(() => globalThis.gc(), 10);
setTimeout(() => console.log(ours.aborted), 300);`;
    expect(execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8' }).trim()).toBe('true');
  });
});
