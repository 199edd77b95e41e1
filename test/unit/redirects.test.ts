import type { IncomingHttpHeaders } from 'node:http';
import { Agent } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { RedirectError } from '../../src/errors/errors.js';
import { exchangeFollowing } from '../../src/http/redirects.js';
import { waitFor } from '../helpers/cli.js';
import { useServer } from '../helpers/server.js';

const seen: Array<{ port: number; path: string; headers: IncomingHttpHeaders }> = [];

/** `/to/<port>/<rest>` redirects to /<rest> on that port (status from ?s=), `/hop/<n>` counts down, `/loop` loops; anything else answers with its path. */
const handler = (port: () => number) => (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
  const path = req.url ?? '';
  seen.push({ port: port(), path, headers: req.headers });
  const to = /^\/to\/(\d+)(\/[^?]*)(?:\?s=(\d+))?$/.exec(path);
  const hop = /^\/hop\/(\d+)$/.exec(path);
  const redirect = (status: number, location: string): void => {
    res.writeHead(status, { location });
    res.end('moved');
  };
  if (to) redirect(Number(to[3] ?? 302), `http://127.0.0.1:${to[1]}${to[2]}#fragment`);
  else if (hop) redirect(301, Number(hop[1]) > 0 ? `/hop/${Number(hop[1]) - 1}` : '/final');
  // Fragments differ from hop to hop: a loop is seen only if they are dropped.
  else if (path === '/loop') redirect(307, '/loop2#a');
  else if (path === '/loop2') redirect(308, 'loop#b');
  else if (path === '/elsewhere') redirect(302, 'ftp://127.0.0.1/file');
  else if (path === '/nowhere') redirect(302, 'http://[bad');
  else if (path === '/big') {
    // A redirect with a body too large to read through: its connection is let go.
    res.writeHead(302, { location: '/final', 'content-length': 4 << 20 });
    res.end(Buffer.alloc(4 << 20));
  } else if (path === '/hang') {
    // Never answers: the exchange must end when its signal aborts.
  } else res.end(`body of ${path}`);
};

const a = useServer(handler(() => a.port));
const b = useServer(handler(() => b.port));
const agent = new Agent();
afterAll(() => agent.close());

async function get(url: string, headers: Record<string, string> = {}, max = 10, signal = new AbortController().signal) {
  const response = await exchangeFollowing(agent, new URL(url), headers, signal, max);
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => response.body.read({ data: (c) => chunks.push(c), end: resolve, error: reject }));
  return { status: response.statusCode, text: Buffer.concat(chunks).toString() };
}

describe('exchangeFollowing', () => {
  it('follows relative and absolute Locations, with each status undici followed', async () => {
    expect(await get(a.url('/hop/3'))).toEqual({ status: 200, text: 'body of /final' });
    for (const status of [300, 301, 302, 303, 307, 308]) {
      expect(await get(a.url(`/to/${b.port}/s${status}?s=${status}`))).toEqual({ status: 200, text: `body of /s${status}` });
    }
  });

  it('returns the redirect itself past the limit', async () => {
    expect((await get(a.url('/hop/3'), {}, 4)).status).toBe(200);
    expect(await get(a.url('/hop/3'), {}, 3)).toEqual({ status: 301, text: 'moved' });
  });

  it('fails a loop at once, before the limit', async () => {
    seen.length = 0;
    await expect(get(a.url('/loop'))).rejects.toBeInstanceOf(RedirectError);
    expect(seen.map((r) => r.path)).toEqual(['/loop', '/loop2']);
  });

  it('fails for good on a Location that is not an http(s) URL, saying which', async () => {
    await expect(get(a.url('/elsewhere'))).rejects.toThrow(/302 to ftp:\/\/127\.0\.0\.1\/file, which is not an http\(s\) URL/);
    await expect(get(a.url('/nowhere'))).rejects.toBeInstanceOf(RedirectError);
  });

  it('lets go of a redirect whose body is too large to read through, and goes on', async () => {
    expect(await get(a.url('/big'))).toEqual({ status: 200, text: 'body of /final' });
  });

  it('ends with the signal’s reason when it aborts between hops', async () => {
    const controller = new AbortController();
    seen.length = 0;
    const pending = get(a.url(`/to/${b.port}/hang`), {}, 10, controller.signal);
    await waitFor(() => seen.some((r) => r.path === '/hang'));
    controller.abort(new Error('stopped'));
    await expect(pending).rejects.toThrow('stopped');
  });

  it('drops credentials on the way to another origin, and for good; keeps them on the same origin; drops Host on any hop', async () => {
    seen.length = 0;
    // A Host given for the first request only: the next hop, same origin or not, gets its own.
    const headers = { Authorization: 'Bearer x', cookie: 'c=1', 'proxy-authorization': 'p', 'x-other': 'kept', host: 'given.invalid' };
    await get(a.url(`/to/${a.port}/to/${b.port}/to/${a.port}/back`), headers);
    const [first, same, other, back] = seen;
    expect(first!.headers).toMatchObject({ authorization: 'Bearer x', cookie: 'c=1', 'proxy-authorization': 'p', 'x-other': 'kept', host: 'given.invalid' });
    expect(same!.headers).toMatchObject({ authorization: 'Bearer x', cookie: 'c=1', 'proxy-authorization': 'p', 'x-other': 'kept' });
    expect(same!.headers.host).toBe(`127.0.0.1:${a.port}`);
    for (const hop of [other!, back!]) {
      expect(hop.headers.authorization).toBeUndefined();
      expect(hop.headers.cookie).toBeUndefined();
      expect(hop.headers['proxy-authorization']).toBeUndefined();
      expect(hop.headers['x-other']).toBe('kept');
    }
    expect(other!.port).toBe(b.port);
    expect(other!.headers.host).toBe(`127.0.0.1:${b.port}`);
    expect(back!.path).toBe('/back');
  });
});
