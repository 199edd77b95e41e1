import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createDispatcher, type Transport } from '../../src/http/agent.js';
import { exchange } from '../../src/http/exchange.js';
import { waitFor } from '../helpers/cli.js';
import { useRawServers } from '../helpers/raw-server.js';

const KiB = 1024;

const { rawServer } = useRawServers();
const transports: Transport[] = [];
afterEach(async () => {
  await Promise.all(transports.splice(0).map((transport) => transport.destroy()));
});

function transport(connections = 1, timeouts = { connectMs: 10_000, headersMs: 30_000, idleMs: 30_000 }): Transport {
  const made = createDispatcher({ connectionsFor: () => connections, timeouts });
  transports.push(made);
  return made;
}

/** GETs `url` and reads its body whole; `onPiece` may hold the reader up after each piece. */
async function fetchBody(over: Transport, url: string, headers: Record<string, string> = {}, onPiece?: (body: { pause(): void; resume(): void }) => void): Promise<{ status: number; body: Buffer; pieces: Buffer[] }> {
  const { statusCode, body } = await exchange(over, new URL(url), headers, new AbortController().signal);
  const pieces: Buffer[] = [];
  await new Promise<void>((resolve, reject) =>
    body.read({
      data: (chunk) => {
        pieces.push(chunk); // kept as given: a buffer reused under it would show
        onPiece?.(body);
      },
      end: resolve,
      error: reject,
    }),
  );
  return { status: statusCode, body: Buffer.concat(pieces), pieces };
}

const ok = (body: string, extra = ''): string => `HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;

describe('dl connections for plain http', () => {
  it('keeps a connection for the next request, and sends the Host and the caller headers', async () => {
    const heads: string[] = [];
    const { origin, connections } = await rawServer((socket, head) => {
      heads.push(head);
      socket.write(ok('one'));
    });
    const over = transport();
    expect((await fetchBody(over, `${origin}/a?q=1`, { 'user-agent': 'dl-test' })).body.toString()).toBe('one');
    expect((await fetchBody(over, `${origin}/b`)).body.toString()).toBe('one');
    expect(connections()).toBe(1);
    expect(heads[0]).toBe(`GET /a?q=1 HTTP/1.1\r\nhost: ${origin.slice(7)}\r\nuser-agent: dl-test`);
  });

  it('sends a request again on a new connection when a kept one was closed before it was answered', async () => {
    const { origin, connections } = await rawServer((socket, _head, nth) => {
      if (nth === 2) return void socket.destroy(); // the keep-alive race: closed as the request came
      socket.write(ok(`answer ${nth}`));
    });
    const over = transport();
    await fetchBody(over, `${origin}/first`);
    const second = await fetchBody(over, `${origin}/second`);
    expect(second.body.toString()).toBe('answer 3');
    expect(connections()).toBe(2);
  });

  it('a new connection closed before any answer is an error, not sent again', async () => {
    const { origin, connections } = await rawServer((socket) => socket.destroy());
    await expect(fetchBody(transport(), `${origin}/x`)).rejects.toMatchObject({ code: 'UND_ERR_SOCKET' });
    expect(connections()).toBe(1);
  });

  it('an answer partly received and then cut is an error, and is not sent again', async () => {
    let requests = 0;
    const { origin } = await rawServer((socket) => {
      requests++;
      socket.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf');
    });
    await expect(fetchBody(transport(), `${origin}/cut`)).rejects.toMatchObject({ code: 'UND_ERR_SOCKET' });
    expect(requests).toBe(1);
  });

  it('times out waiting for the head, and for the body, with undici codes', async () => {
    const { origin } = await rawServer((socket, head) => {
      if (head.startsWith('GET /body')) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf');
    });
    const over = transport(2, { connectMs: 10_000, headersMs: 150, idleMs: 150 });
    await expect(fetchBody(over, `${origin}/head`)).rejects.toMatchObject({ code: 'UND_ERR_HEADERS_TIMEOUT' });
    await expect(fetchBody(over, `${origin}/body`)).rejects.toMatchObject({ code: 'UND_ERR_BODY_TIMEOUT' });
  });

  it('a body timeout counts silence, not the whole body: a body trickled for twice the timeout arrives', async () => {
    const { origin } = await rawServer((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n');
      let sent = 0;
      const drip = setInterval(() => {
        if (socket.destroyed || sent === 20) return clearInterval(drip);
        socket.write('x');
        sent++;
      }, 30);
    });
    const over = transport(1, { connectMs: 10_000, headersMs: 300, idleMs: 300 });
    const started = performance.now();
    const { body } = await fetchBody(over, `${origin}/drip`);
    expect(body.toString()).toBe('x'.repeat(20));
    expect(performance.now() - started).toBeGreaterThan(300 * 2 - 100); // 20 x 30 ms of drips, so the timeout was moved
  });

  it('a timeout past what setTimeout takes (24.8 days) neither fires at once nor wakes every millisecond', async () => {
    const { origin } = await rawServer(() => undefined); // never answers
    let warnings = 0;
    const onWarning = (warning: Error) => void (warning.name === 'TimeoutOverflowWarning' && warnings++);
    process.on('warning', onWarning);
    try {
      // No connect timeout: the headers timeout is then the first timer the connection sets.
      const over = transport(1, { connectMs: 0, headersMs: 3_000_000_000, idleMs: 300 });
      const fetching = fetchBody(over, `${origin}/never`).then(() => 'answered', (error: { code?: string }) => error.code ?? 'failed');
      // Nothing may end the request within a bounded wait: a timeout fired early would.
      const outcome = await Promise.race([fetching, new Promise((resolve) => setTimeout(() => resolve('still waiting'), 300))]);
      expect(outcome).toBe('still waiting');
      expect(warnings).toBe(0);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('no body timeout while the reader holds the body paused; a head trickled in still times out', async () => {
    const { origin } = await rawServer((socket, head) => {
      if (head.startsWith('GET /paused')) return void socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${400 * KiB}\r\n\r\n${'x'.repeat(400 * KiB)}`);
      socket.write('HTTP/1.1 200 OK\r\n');
      const drip = setInterval(() => (socket.destroyed ? clearInterval(drip) : socket.write('X-Drip: 1\r\n')), 40);
    });
    const over = transport(2, { connectMs: 10_000, headersMs: 300, idleMs: 150 });
    let paused = false;
    const { body } = await fetchBody(over, `${origin}/paused`, {}, (reader) => {
      if (paused) return;
      paused = true;
      reader.pause();
      setTimeout(() => reader.resume(), 450); // three body timeouts of silence, asked for by the reader
    });
    expect(body.length).toBe(400 * KiB);
    await expect(fetchBody(over, `${origin}/drip`)).rejects.toMatchObject({ code: 'UND_ERR_HEADERS_TIMEOUT' });
  });

  it('sends the Host the caller gives instead of the origin', async () => {
    const heads: string[] = [];
    const { origin } = await rawServer((socket, head) => {
      heads.push(head);
      socket.write(ok(''));
    });
    await fetchBody(transport(), `${origin}/v`, { Host: 'vhost.example' });
    expect(heads[0]).toBe('GET /v HTTP/1.1\r\nHost: vhost.example');
  });

  it('does not keep a connection the server keeps a second or less', async () => {
    const { origin, connections } = await rawServer((socket, _head, nth) => socket.write(ok(`${nth}`, 'Keep-Alive: timeout=1\r\n')));
    const over = transport();
    await fetchBody(over, `${origin}/a`);
    expect((await fetchBody(over, `${origin}/b`)).body.toString()).toBe('2');
    expect(connections()).toBe(2);
  });

  it('a request after destroy() fails at once and opens nothing', async () => {
    const { origin, connections } = await rawServer((socket) => socket.write(ok('')));
    const over = transport();
    await over.destroy();
    await expect(fetchBody(over, `${origin}/late`)).rejects.toMatchObject({ code: 'UND_ERR_DESTROYED' });
    expect(connections()).toBe(0);
  });

  it('a refused connection fails with the system code', async () => {
    const { server, origin } = await rawServer(() => undefined);
    await new Promise((resolve) => server.close(resolve));
    await expect(fetchBody(transport(), `${origin}/x`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('refuses a header value that would split the request, and sends nothing', async () => {
    let requests = 0;
    const { origin } = await rawServer((socket) => {
      requests++;
      socket.write(ok(''));
    });
    const over = transport();
    await expect(fetchBody(over, `${origin}/x`, { 'x-evil': 'a\r\nInjected: yes' })).rejects.toMatchObject({ code: 'UND_ERR_INVALID_ARG' });
    expect((await fetchBody(over, `${origin}/y`)).status).toBe(200);
    expect(requests).toBe(1);
  });

  it('a large body read with pauses arrives intact: pieces handed over are never written over', async () => {
    const payload = Buffer.alloc(4 * 1024 * KiB);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 7 + (i >> 16)) & 0xff;
    const { origin } = await rawServer((socket) => {
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${payload.length}\r\n\r\n`);
      socket.write(payload);
    });
    let held = 0;
    const { body, pieces } = await fetchBody(transport(), `${origin}/big`, {}, (reader) => {
      if (++held % 8 !== 0) return;
      reader.pause();
      setTimeout(() => reader.resume(), 5);
    });
    expect(pieces.length).toBeGreaterThan(1);
    expect(body.equals(payload)).toBe(true);
  });

  it("lets an origin's pool go once its last connection has closed, and makes one anew for its next request", async () => {
    const closing = await Promise.all([1, 2, 3].map(() => rawServer((socket) => socket.write(ok('bye', 'Connection: close\r\n')))));
    const keeping = await rawServer((socket) => socket.write(ok('kept')));
    const over = transport(2) as Transport & { origins: number };
    for (const { origin } of closing) expect((await fetchBody(over, `${origin}/x`)).body.toString()).toBe('bye');
    expect((await fetchBody(over, `${keeping.origin}/x`)).body.toString()).toBe('kept');
    // A run over a million origins keeps a pool only for those with a connection open.
    await waitFor(() => over.origins === 1, 10_000, 'the closed origins to be let go');
    expect((await fetchBody(over, `${closing[0]!.origin}/again`)).body.toString()).toBe('bye');
    expect((await fetchBody(over, `${keeping.origin}/again`)).body.toString()).toBe('kept');
    expect(keeping.connections()).toBe(1);
    expect(closing[0]!.connections()).toBe(2);
  });

  it('opens no more connections than the host limit, and serves every request', async () => {
    const { origin, connections } = await rawServer((socket, head) => setTimeout(() => socket.write(ok(head.split(' ')[1]!)), 20));
    const over = transport(2);
    const paths = ['/1', '/2', '/3', '/4', '/5'];
    const bodies = await Promise.all(paths.map(async (path) => (await fetchBody(over, `${origin}${path}`)).body.toString()));
    expect(bodies).toEqual(paths);
    expect(connections()).toBe(2);
  });

  it('does not reuse a connection that sent bytes nobody asked for', async () => {
    let first: Socket | undefined;
    const { origin, connections } = await rawServer((socket, _head, nth) => {
      socket.write(ok(`answer ${nth}`));
      if (nth === 1) first = socket;
    });
    const over = transport();
    await fetchBody(over, `${origin}/first`);
    first!.write('HTTP/1.1 200 OK\r\n');
    await new Promise((resolve) => first!.once('close', resolve)); // dl hung up on it
    expect((await fetchBody(over, `${origin}/second`)).body.toString()).toBe('answer 2');
    expect(connections()).toBe(2);
  });

  it('a body framed by the end of the connection is whole when the connection ends, and the connection is not kept', async () => {
    const { origin, connections } = await rawServer((socket, _head, nth) => socket.end(`HTTP/1.1 200 OK\r\n\r\nuntil close ${nth}`));
    const over = transport();
    expect((await fetchBody(over, `${origin}/a`)).body.toString()).toBe('until close 1');
    expect((await fetchBody(over, `${origin}/b`)).body.toString()).toBe('until close 2');
    expect(connections()).toBe(2);
  });
});
