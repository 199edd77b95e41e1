import type { Dispatcher } from 'undici';
import { describe, expect, it } from 'vitest';
import { PlainHttpRouter, type Transport } from '../../src/http/agent.js';

/** A handler that tells how its request ended: the error it failed with, or none yet. */
function recorder(): { handler: Dispatcher.DispatchHandler; failed: Promise<Error> } {
  let fail: (error: Error) => void = () => undefined;
  const failed = new Promise<Error>((resolve) => (fail = resolve));
  return { handler: { onResponseError: (_controller, error) => fail(error) }, failed };
}

const options = { method: 'GET', path: '/f.bin', origin: 'https://127.0.0.1:1' } as Dispatcher.DispatchOptions;

describe('the router of requests that are not plain http', () => {
  it('fails the requests of a load of undici that failed, and loads it again for the next request', async () => {
    const dispatched: string[] = [];
    // Stands in for undici's agent: the router's concern here is only when it is made.
    const agent: Transport = {
      dispatch: (opts) => dispatched.push(String(opts.path)) > 0,
      destroy: async () => undefined,
    } as Transport;
    let loads = 0;
    const router = new PlainHttpRouter(
      async () => {
        loads++;
        if (loads === 1) throw Object.assign(new Error('EMFILE: too many open files'), { code: 'EMFILE' });
        return agent;
      },
      () => ({ connections: 1, connectTimeoutMs: 1000, headersTimeoutMs: 1000, bodyTimeoutMs: 1000 }),
    );
    const first = recorder();
    const second = recorder();
    router.dispatch(options, first.handler);
    router.dispatch(options, second.handler);
    // Both waited for the same load, and were told why it failed.
    expect((await first.failed).message).toMatch(/EMFILE/);
    expect((await second.failed).message).toMatch(/EMFILE/);
    expect(loads).toBe(1);

    router.dispatch({ ...options, path: '/g.bin' }, recorder().handler);
    await expect.poll(() => dispatched).toEqual(['/g.bin']);
    expect(loads).toBe(2);
    await router.destroy();
  });
});
