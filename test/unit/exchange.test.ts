import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Agent, type Dispatcher } from 'undici';
import { createDispatcher, type Transport } from '../../src/http/agent.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exchange, type BodySink, type ResponseHead } from '../../src/http/exchange.js';
import { waitFor } from '../helpers/cli.js';
import { useServer } from '../helpers/server.js';

const MiB = 1 << 20;

function deferred(): { promise: Promise<void>; resolve(): void } {
  let resolve!: () => void;
  const promise = new Promise<void>((res) => (resolve = res));
  return { promise, resolve };
}

/** Lets the event loop turn a few times (a chance for what must not happen to happen). */
async function turns(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Bytes that differ from place to place, so that a lost or reordered piece shows. */
function pattern(size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) out[i] = (i * 31 + (i >> 12)) & 0xff;
  return out;
}

/** Records what the body gives it; `events` lists data (once per run of chunks), end and error. */
class Sink implements BodySink {
  readonly chunks: Buffer[] = [];
  readonly events: string[] = [];
  failure: unknown;
  constructor(private readonly onData: () => void = () => undefined) {}
  data(chunk: Buffer): void {
    this.chunks.push(chunk);
    if (this.events.at(-1) !== 'data') this.events.push('data');
    this.onData();
  }
  end(): void {
    this.events.push('end');
  }
  error(error: unknown): void {
    this.failure = error;
    this.events.push('error');
  }
  get bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
  finished(): Promise<unknown> {
    return waitFor(() => this.events.some((event) => event !== 'data'), 60_000, 'end of body');
  }
}

const closed = (socket: Socket): Promise<void> =>
  new Promise((resolve) => (socket.closed ? resolve() : socket.once('close', () => resolve())));

// What undici itself saw, per request path, through its diagnostics channels: a body piece is
// What the transport handed over, per request path, seen from a wrapper around it: a body piece
// is counted just before exchange's handler gets it, the end just before the handler is told.
const received = new Map<string, number>();
const completed = new Set<string>();
const created: string[] = [];

function observed(transport: Transport): Pick<Dispatcher, 'dispatch'> {
  return {
    dispatch(opts, handler) {
      const path = opts.path;
      created.push(path);
      return transport.dispatch(opts, {
        ...handler,
        onResponseData(controller, chunk) {
          received.set(path, (received.get(path) ?? 0) + chunk.length);
          handler.onResponseData?.(controller, chunk);
        },
        onResponseEnd(controller, trailers) {
          completed.add(path);
          handler.onResponseEnd?.(controller, trailers);
        },
      });
    },
  };
}

/** The server side of the current test; `sockets` are the connections requests came on. */
let serve: (req: IncomingMessage, res: ServerResponse) => unknown;
let sockets: Socket[];
const server = useServer((req, res) => {
  sockets.push(req.socket);
  void serve(req, res);
});

// Both transports a run uses: undici's (TLS, proxies) and dl's own connections (plain http).
// One connection per origin (as dl sizes its pools): a request after another goes on the same
// socket if that is still open, and on a new one if it was closed.
const transports: Array<[string, () => Transport]> = [
  ['undici', () => new Agent({ connections: 1 })],
  ['dl h1', () => createDispatcher({ connectionsFor: () => 1, timeouts: { connectMs: 10_000, headersMs: 30_000, idleMs: 30_000 } })],
];

describe.each(transports)('exchange over %s', (_name, makeTransport) => {
  let transport: Transport;

  beforeEach(() => {
    received.clear();
    completed.clear();
    created.length = 0;
    sockets = [];
    transport = makeTransport();
  });
  afterEach(() => transport.destroy());

  function get(path: string, signal = new AbortController().signal): Promise<ResponseHead> {
    return exchange(observed(transport), new URL(server.url(path)), {}, signal);
  }

  it('resolves with status and headers before the body is sent', async () => {
    const sendBody = deferred();
    serve = async (_req, res) => {
      res.writeHead(203, { 'x-test': 'yes', 'content-length': 5 }).flushHeaders();
      await sendBody.promise;
      res.end('hello');
    };
    const { statusCode, headers, body } = await get('/head');
    expect(statusCode).toBe(203);
    expect(headers['x-test']).toBe('yes');
    const sink = new Sink();
    body.read(sink);
    sendBody.resolve();
    await sink.finished();
    expect(sink.bytes.toString()).toBe('hello');
    expect(sink.events).toEqual(['data', 'end']);
  });

  it('passes over informational answers (103 Early Hints) to the real one', async () => {
    serve = (_req, res) => {
      res.writeEarlyHints({ link: '</style.css>; rel=preload' });
      res.writeHead(200, { 'content-length': 2 }).end('ok');
    };
    const { statusCode, headers, body } = await get('/early-hints');
    expect(statusCode).toBe(200);
    expect(headers.link).toBeUndefined();
    const sink = new Sink();
    body.read(sink);
    await sink.finished();
    expect(sink.bytes.toString()).toBe('ok');
  });

  it('an error before the headers rejects the exchange', async () => {
    serve = (req) => req.socket.destroy();
    await expect(get('/hang-up')).rejects.toMatchObject({ code: 'UND_ERR_SOCKET' });
  });

  describe('body', () => {
    it('gives the chunks held before read() first, in order, then the live ones', async () => {
      const steps = [deferred(), deferred()];
      serve = async (_req, res) => {
        res.writeHead(200, { 'content-length': 11 });
        res.write('one');
        await steps[0]!.promise;
        res.write('two');
        await steps[1]!.promise;
        res.end('three');
      };
      const { body } = await get('/pieces');
      await waitFor(() => received.get('/pieces') === 3);
      steps[0]!.resolve();
      await waitFor(() => received.get('/pieces') === 6);
      const sink = new Sink();
      body.read(sink);
      expect(sink.chunks.map(String)).toEqual(['one', 'two']); // given by read() itself
      steps[1]!.resolve();
      await sink.finished();
      expect(sink.chunks.map(String)).toEqual(['one', 'two', 'three']);
      expect(sink.events).toEqual(['data', 'end']);
    });

    it('holds a whole small body with its end until read(), and can be read only once', async () => {
      const content = pattern(1000);
      serve = (_req, res) => res.end(content);
      const { body } = await get('/small');
      await waitFor(() => completed.has('/small'));
      const sink = new Sink();
      body.read(sink);
      expect(sink.events).toEqual(['data', 'end']);
      expect(sink.bytes.equals(content)).toBe(true);
      expect(() => body.read(new Sink())).toThrow('read twice');
    });

    it('stops reading a body nobody reads soon after 1 MiB is held; read() takes it up again', async () => {
      const content = pattern(6 * MiB);
      serve = (_req, res) => res.end(content);
      const { body } = await get('/unread');
      await waitFor(() => (received.get('/unread') ?? 0) > MiB);
      await turns(20);
      const sink = new Sink();
      body.read(sink);
      const held = sink.bytes.length;
      expect(held).toBeGreaterThan(MiB);
      expect(held).toBeLessThan(2 * MiB);
      await sink.finished();
      expect(sink.events).toEqual(['data', 'end']);
      expect(sink.bytes.equals(content)).toBe(true);
    });

    it('pause() stops the data until resume()', async () => {
      const content = pattern(4 * MiB);
      const sendBody = deferred();
      serve = async (_req, res) => {
        res.writeHead(200, { 'content-length': content.length }).flushHeaders();
        await sendBody.promise;
        res.end(content);
      };
      const { body } = await get('/paused');
      let atPause: number | undefined;
      const sink = new Sink(() => {
        if (atPause !== undefined) return;
        body.pause();
        atPause = sink.chunks.length;
      });
      body.read(sink);
      sendBody.resolve();
      await waitFor(() => atPause !== undefined);
      await turns(20);
      expect(sink.chunks.length).toBe(atPause);
      body.resume();
      await sink.finished();
      expect(sink.events).toEqual(['data', 'end']);
      expect(sink.bytes.equals(content)).toBe(true);
    });

    it('a body cut off mid-way ends with an error after the bytes that came', async () => {
      serve = (_req, res) => {
        res.writeHead(200, { 'content-length': 2000 });
        res.write(Buffer.alloc(1000, 1), () => res.destroy());
      };
      const { body } = await get('/cut');
      const sink = new Sink();
      body.read(sink);
      await sink.finished();
      expect(sink.events).toEqual(['data', 'error']);
      expect(sink.bytes.equals(Buffer.alloc(1000, 1))).toBe(true);
      expect(sink.failure).toMatchObject({ code: 'UND_ERR_SOCKET' });
    });
  });

  describe('drain and discard', () => {
    let sendLate: ReturnType<typeof deferred>;
    beforeEach(() => {
      sendLate = deferred();
      serve = async (req, res) => {
        res.writeHead(404, { 'content-length': req.url === '/long' ? 8 * MiB : 1000 }).flushHeaders();
        if (req.url === '/late') await sendLate.promise;
        res.end(Buffer.alloc(req.url === '/long' ? 8 * MiB : 1000));
      };
    });

    it('drain() reads a short body to its end, and the connection serves the next request', async () => {
      const first = await get('/late');
      expect(first.statusCode).toBe(404);
      const draining = first.body.drain(64 * 1024);
      sendLate.resolve();
      await draining;
      expect(completed.has('/late')).toBe(true);
      await (await get('/short')).body.drain(64 * 1024);
      expect(sockets).toHaveLength(2);
      expect(sockets[1]).toBe(sockets[0]);
    });

    it('drain() lets a long body go: its connection is closed and the next request opens another', async () => {
      await (await get('/long')).body.drain(64 * 1024);
      expect(completed.has('/long')).toBe(false);
      await (await get('/short')).body.drain(64 * 1024);
      expect(sockets).toHaveLength(2);
      expect(sockets[1]).not.toBe(sockets[0]);
    });

    it('discard() while reading: the sink hears nothing more and the connection is closed', async () => {
      const { body } = await get('/long');
      const sink = new Sink(() => body.discard());
      body.read(sink);
      await (await get('/short')).body.drain(64 * 1024);
      expect(sockets[1]).not.toBe(sockets[0]);
      await closed(sockets[0]!);
      expect(sink.chunks).toHaveLength(1);
      expect(sink.events).toEqual(['data']);
    });

    it('discard() of a body that has ended drops what is held and keeps the connection', async () => {
      const { body } = await get('/short');
      await waitFor(() => completed.has('/short'));
      body.discard();
      const sink = new Sink();
      body.read(sink);
      // Nothing of what was held; a reader that comes anyway is told, rather than left waiting.
      expect(sink.chunks).toEqual([]);
      expect(sink.events).toEqual(['error']);
      await (await get('/short')).body.drain(64 * 1024);
      expect(sockets[1]).toBe(sockets[0]);
    });
  });

  describe('abort', () => {
    const reason = new Error('stop');

    it('an already aborted signal rejects with its reason and sends nothing', async () => {
      const aborted = new AbortController();
      aborted.abort(reason);
      await expect(get('/never', aborted.signal)).rejects.toBe(reason);
      expect(created).toEqual([]);
    });

    it('an abort before the headers rejects with the reason and closes the connection', async () => {
      const arrived = deferred();
      serve = () => arrived.resolve(); // and never answers
      const controller = new AbortController();
      const pending = get('/silent', controller.signal);
      await arrived.promise;
      controller.abort(reason);
      await expect(pending).rejects.toBe(reason);
      await closed(sockets[0]!);
    });

    it('an abort during the body ends it with the reason', async () => {
      serve = (_req, res) => res.writeHead(200, { 'content-length': 100 }).write('part'); // then silence
      const controller = new AbortController();
      const { body } = await get('/stalled', controller.signal);
      const sink = new Sink();
      body.read(sink);
      await waitFor(() => sink.chunks.length > 0);
      controller.abort(reason);
      await sink.finished();
      expect(sink.events).toEqual(['data', 'error']);
      expect(sink.failure).toBe(reason);
      await closed(sockets[0]!);
    });

    it('an abort after the headers and before read() is given to the reader', async () => {
      serve = (_req, res) => res.writeHead(200, { 'content-length': 100 }).flushHeaders();
      const controller = new AbortController();
      const { body } = await get('/unread-abort', controller.signal);
      controller.abort(reason);
      const sink = new Sink();
      body.read(sink);
      expect(sink.events).toEqual(['error']);
      expect(sink.failure).toBe(reason);
    });
  });
});
