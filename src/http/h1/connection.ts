import type * as Net from 'node:net';
import type { OnReadOpts, Socket, SocketConstructorOpts } from 'node:net';
import { constants as osConstants } from 'node:os';
import type { Dispatcher } from 'undici';
import { limitMs } from '../native-addon.js';
import { bodyTimeout, connectTimeout, headersTimeout, otherSideClosed, systemError } from './http-error.js';
import { bareHostname } from '../origin-of.js';
import { nativePump, pumped, type Pumping } from './native-pump.js';
import { ReadBuffer } from './read-buffer.js';
import { requestHead } from './request-head.js';
import { ResponseParser, type ResponseHeaders } from './response-parser.js';
import { monotonicMs } from '../../utils/clock.js';
import { loadLater } from '../../utils/load-later.js';

/**
 * Node's net module, loaded with the first connection: a run whose files the native fetcher takes
 * whole opens none, and loading it (with the stream modules it brings) took ~1.5 ms of every run's
 * start-up.
 */
const net = loadLater<typeof Net>('node:net');

/** A request as a dispatcher receives it, with the handler its answer goes to. */
export interface Exchange {
  opts: Dispatcher.DispatchOptions;
  handler: Dispatcher.DispatchHandler;
}

export interface ConnectionOptions {
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  /** The longest silence within a body. */
  bodyTimeoutMs: number;
}

export interface ConnectionEvents {
  /** The connection can take another request. */
  idle(connection: Connection): void;
  /** The connection is gone; `retry` is a request it never got an answer to, safe to send again. */
  closed(connection: Connection, retry: Exchange | undefined): void;
}

/**
 * A connection the native fetcher hands over with an answer it does not take (http/native-fetcher.ts):
 * its socket's descriptor, and the bytes it read of that answer.
 */
export interface HandedConnection {
  fd: number;
  read: Buffer;
}

/** An idle connection is closed after this long, before a server's usual keep-alive timeout. */
const IDLE_MS = 4_000;
/** ETIMEDOUT's number (os.constants.errno), which the pump reports a silence with. */
const ETIMEDOUT = osConstants.errno.ETIMEDOUT;
/** The longest delay setTimeout takes (2^31-1 ms). */
const MAX_DELAY_MS = 0x7fffffff;

/** What the current request waits for; the timer's meaning follows it. */
type Phase = 'connect' | 'head' | 'body' | 'idle';

/**
 * What a handler holds to pause, resume or abort its request (undici's DispatchController).
 * Settled once the request has ended, after which it does nothing.
 */
class Controller implements Dispatcher.DispatchController, Pumping {
  aborted = false;
  paused = false;
  reason: Error | null = null;
  ended = false;

  constructor(private readonly connection: Connection) {}

  abort(reason: Error): void {
    if (this.aborted || this.ended) return;
    this.aborted = true;
    this.reason = reason;
    this.connection.abort(this, reason);
  }

  pause(): void {
    this.paused = true;
    if (!this.ended) this.connection.pause();
  }

  resume(): void {
    this.paused = false;
    if (!this.ended) this.connection.resume();
  }

  pumpable(): number {
    return this.ended || this.aborted ? 0 : this.connection.pumpable();
  }

  pump(fd: number, state: Float64Array): boolean {
    return this.connection.pump(fd, state);
  }
}

/**
 * One keep-alive HTTP/1.1 connection over a plain TCP socket, one request at a time. Reads go
 * into a buffer of dl's own (`onread`): no stream machinery and no allocation per read, which
 * is much of what a small file costs through undici's connections (docs/architecture.md).
 * Body pieces are handed to the handler as copies when small and lent as views of the read
 * buffer when large (see read-buffer.ts).
 */
export class Connection {
  readonly #socket: Socket;
  readonly #parser: ResponseParser;
  readonly #reads = new ReadBuffer();
  #current: Exchange | undefined;
  #controller: Controller | undefined;
  /** Any byte of the current request's answer has arrived. */
  #answered = false;
  #connected = false;
  #closed = false;
  /** Requests this connection has completed: a failure before any answer on a reused one is retried. */
  #served = 0;
  #paused = false;
  /**
   * One timer per connection, moved lazily: a phase sets its deadline, and the timer is only
   * set anew when the deadline comes before the time it fires. A timer that fires early finds
   * the deadline moved and waits out the rest. Three setTimeout/clearTimeout pairs per request
   * (head, body, idle) cost more than the request's own parsing.
   */
  #timer: NodeJS.Timeout | undefined;
  /** When #timer fires (utils/clock.ts ms). */
  #timerAt = 0;
  /** When the current phase times out (utils/clock.ts ms); Infinity: no timeout armed. */
  #deadline = Infinity;
  /** The current phase's timeout, for refreshing it. */
  #phaseMs = 0;
  /** What the current phase's timeout fails the request with; undefined: the connection is closed quietly. */
  #expired: (() => Error) | undefined;
  #phase: Phase = 'connect';
  #idleMs = IDLE_MS;
  /** The native pump's shared state while it has this connection's socket (see pump()). */
  #pumping: Float64Array | undefined;
  /** How the request ends once the pump lets go of the socket: stopped with an error, or closed. */
  #afterPump: { error: Error | undefined } | undefined;
  /** The Host header's value. */
  readonly #host: string;
  /** Bytes of the first request's answer, read before this connection was handed over; that request is sent already. */
  #handed: Buffer | undefined;

  /** A new connection to `origin`, or the one the native fetcher hands over (`handed`). */
  constructor(
    origin: URL,
    private readonly options: ConnectionOptions,
    private readonly events: ConnectionEvents,
    handed?: HandedConnection,
  ) {
    this.#parser = new ResponseParser({
      onHead: (statusCode, statusText, headers) => this.#onHead(statusCode, statusText, headers),
      onBody: (chunk) => this.#onBody(chunk),
      onEnd: () => this.#onEnd(),
    });
    this.#host = origin.host;
    const onread = { buffer: () => this.#reads.room(), callback: (bytes: number, buf: Uint8Array) => this.#onRead(bytes, buf as Buffer) };
    if (handed) {
      // Connected, and reading from the next turn of the event loop on: send() must come first.
      // Node takes `onread` here as connect() does (connect() passes it on to this constructor),
      // but its types list it for connect() only.
      const adopt: SocketConstructorOpts & { onread: OnReadOpts } = { fd: handed.fd, readable: true, writable: true, onread };
      this.#socket = new (net().Socket)(adopt);
      this.#connected = true;
      this.#handed = handed.read;
    } else {
      this.#socket = net().connect({ host: bareHostname(origin.hostname), port: Number(origin.port || 80), onread });
      this.#socket.setNoDelay(true);
      this.#arm('connect', options.connectTimeoutMs, connectTimeout);
      this.#socket.on('connect', () => {
        this.#connected = true;
        this.#disarm();
        if (this.#current) this.#write(this.#current);
        else this.#idle();
      });
    }
    this.#socket.on('error', (error) => this.#close(error));
    this.#socket.on('end', () => this.#onEof());
    this.#socket.on('close', () => this.#close(undefined));
  }

  get busy(): boolean {
    return this.#current !== undefined || this.#closed;
  }

  /** Sends a request; the connection must not be busy. */
  send(exchange: Exchange): void {
    this.#current = exchange;
    this.#answered = false;
    this.#parser.expect(exchange.opts.method);
    const controller = new Controller(this);
    this.#controller = controller;
    try {
      exchange.handler.onRequestStart?.(controller, {});
    } catch (error) {
      return this.#fail(error as Error);
    }
    if (this.#controller !== controller) return; // aborted at once
    const handed = this.#handed;
    if (handed) {
      // Sent by the native fetcher: its answer is read on from what the fetcher read of it.
      this.#handed = undefined;
      this.#armHead();
      this.#onRead(handed.length, handed);
    } else if (this.#connected) {
      this.#write(exchange);
    }
  }

  /** Closes the connection; a request under way fails with `error`. */
  destroy(error?: Error): void {
    if (this.#pumping) return this.#stopPump(error);
    if (this.#current && error) this.#fail(error);
    else this.#socket.destroy();
  }

  /** @internal A controller's abort: its request ends with `reason`, and the connection with it. */
  abort(controller: Controller, reason: Error): void {
    if (controller === this.#controller) this.#fail(reason);
  }

  /** @internal */
  pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.#socket.pause();
    // Silence the reader asked for is not the server's: no body timeout while paused.
    if (this.#phase === 'body') this.#disarm();
  }

  /** @internal */
  resume(): void {
    // While the pump has the socket, reading it here would take bytes from under it.
    if (!this.#paused || this.#closed || this.#pumping) return;
    this.#paused = false;
    this.#socket.resume();
    if (this.#phase === 'body' && this.#current) this.#armBody();
  }

  /**
   * @internal Body bytes still to come that the native pump could move: those of a body framed
   * by Content-Length, on a socket with a descriptor, where a pump was built. 0 when it cannot.
   */
  pumpable(): number {
    if (!this.#current || this.#phase !== 'body' || this.#pumping || this.#closed || !nativePump() || socketFd(this.#socket) === undefined) return 0;
    return this.#parser.countedLeft;
  }

  /**
   * @internal The rest of the body (pumpable() bytes) into the file `fd` by the native pump, on
   * its own thread; the request then ends as if those bytes had been read here. Reading stops
   * first, and at once (onread mode), so every byte past the parser's count is the pump's. Until
   * the pump lets go, the socket stays open whatever ends the request (see #stopPump): a closed
   * descriptor's number is soon another file's, which the pump's thread would then read.
   */
  pump(fd: number, state: Float64Array): boolean {
    const left = this.#parser.countedLeft;
    this.pause();
    try {
      nativePump()!.pump(socketFd(this.#socket)!, fd, left, limitMs(this.options.bodyTimeoutMs), state, (errno, moved, writing) => this.#pumpEnded(errno, moved, writing));
    } catch {
      // No thread to be had (a process limit), say: the body goes on here, read as before.
      this.resume();
      return false;
    }
    this.#pumping = state;
    this.#disarm(); // the pump keeps the body timeout itself
    return true;
  }

  #pumpEnded(errno: number, moved: number, writing: boolean): void {
    this.#pumping = undefined;
    pumped.bodies++;
    pumped.bytes += moved;
    const after = this.#afterPump;
    this.#afterPump = undefined;
    if (errno === 0) {
      // Whole, even if a stop came as the last bytes did: the file is kept, the connection not.
      if (after) this.#parser.keepAlive = false;
      return this.#parser.skipCounted(moved);
    }
    if (after?.error) return this.#fail(after.error);
    if (after) return void this.#socket.destroy();
    this.#fail(pumpError(errno, writing));
  }

  /** Asks the pump to stop; the request ends the way it was asked to once the pump has let go. */
  #stopPump(error: Error | undefined): void {
    this.#afterPump ??= { error };
    this.#pumping![1] = 1;
  }

  #write(exchange: Exchange): void {
    const { opts } = exchange;
    let head: string;
    try {
      head = requestHead(opts.method, opts.path, this.#host, opts.headers);
    } catch (error) {
      return this.#fail(error as Error);
    }
    this.#socket.write(head, 'latin1');
    this.#armHead();
  }

  /** Counted from the request, not from the last byte: a head trickled in must still time out. */
  #armHead(): void {
    this.#arm('head', this.options.headersTimeoutMs, headersTimeout);
  }

  /** Returns false to stop reading (paused, or the connection is done for). */
  #onRead(bytes: number, buf: Buffer): boolean {
    if (!this.#current) {
      // Bytes nobody asked for: the connection cannot be trusted with another request.
      this.#socket.destroy();
      return false;
    }
    this.#answered = true;
    if (this.#phase === 'body') this.#refresh();
    try {
      this.#parser.feed(buf, 0, bytes);
    } catch (error) {
      this.#fail(error as Error);
      return false;
    }
    return !this.#paused;
  }

  #onHead(statusCode: number, statusText: string, headers: ResponseHeaders): void {
    const exchange = this.#current;
    if (!exchange) return; // aborted from within this read
    if (statusCode < 200) {
      // Informational: the answer follows, with the headers timeout counted afresh.
      this.#refresh();
      return;
    }
    this.#armBody();
    const hint = keepAliveHint(headers['keep-alive']);
    // A server that keeps connections a second or less: too close to call, not reused.
    if (hint !== undefined) this.#idleMs = Math.min(IDLE_MS, hint - 1_000);
    exchange.handler.onResponseStart?.(this.#controller!, statusCode, headers, statusText);
  }

  #onBody(chunk: Buffer): void {
    const exchange = this.#current;
    if (!exchange) return;
    exchange.handler.onResponseData?.(this.#controller!, this.#reads.lend(chunk));
  }

  #onEnd(): void {
    const taken = this.#take();
    if (!taken) return; // aborted from within this read
    this.#served++;
    this.#disarm();
    const reuse = this.#parser.keepAlive && this.#idleMs > 0;
    if (this.#paused) {
      // Paused on the last piece: the next request needs the socket reading again.
      this.#paused = false;
      this.#socket.resume();
    }
    taken.exchange.handler.onResponseEnd?.(taken.controller, {});
    if (reuse && !this.#closed) this.#idle();
    else this.#socket.destroy();
  }

  #onEof(): void {
    // Closed before any answer: `#close` reports it, or sends the request again.
    if (!this.#current || !this.#answered) return void this.#socket.destroy();
    try {
      this.#parser.eof();
    } catch (error) {
      return this.#fail(error as Error);
    }
    this.#socket.destroy();
  }

  #idle(): void {
    if (this.#closed) return;
    this.#arm('idle', this.#idleMs, undefined);
    this.events.idle(this);
  }

  /** Ends the current request with `error` and the connection with it. */
  #fail(error: Error): void {
    if (this.#pumping) return this.#stopPump(error);
    const taken = this.#take();
    this.#socket.destroy();
    if (taken) report(taken, error);
  }

  /** The request under way, which ends here (its controller is settled); undefined if none is. */
  #take(): { exchange: Exchange; controller: Controller } | undefined {
    const exchange = this.#current;
    const controller = this.#controller;
    this.#current = undefined;
    this.#controller = undefined;
    if (!exchange || !controller) return undefined;
    controller.ended = true;
    return { exchange, controller };
  }

  #close(error: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#disarm();
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#socket.destroy();
    this.#reads.close();
    const taken = this.#take();
    // A reused connection that the server had closed before our request reached it: the
    // request was never answered and goes out again on a fresh connection.
    const retry = taken && !this.#answered && this.#served > 0 ? taken.exchange : undefined;
    if (taken && !retry) report(taken, error ?? otherSideClosed());
    this.events.closed(this, retry);
  }

  #armBody(): void {
    this.#arm('body', this.options.bodyTimeoutMs, bodyTimeout);
  }

  /** One timeout per connection: connect, then headers, then body silence, then idle. */
  #arm(phase: Phase, ms: number, error: (() => Error) | undefined): void {
    this.#phase = phase;
    this.#expired = error;
    this.#phaseMs = ms;
    if ((phase === 'body' && this.#paused) || ms <= 0 || !Number.isFinite(ms)) this.#deadline = Infinity;
    else this.#setDeadline(monotonicMs() + ms);
  }

  /** The armed timeout counted afresh from now, as Timeout#refresh() does. */
  #refresh(): void {
    if (this.#deadline !== Infinity) this.#setDeadline(monotonicMs() + this.#phaseMs);
  }

  #setDeadline(at: number): void {
    this.#deadline = at;
    if (this.#timer !== undefined) {
      if (this.#timerAt <= at) return; // fires first, then waits out the rest (#onTimer)
      clearTimeout(this.#timer);
    }
    this.#timerAt = at;
    // setTimeout takes at most 2^31-1 ms (24.8 days) and fires at once past that: a longer
    // timeout is waited out in steps (#onTimer sets the next).
    this.#timer = setTimeout(this.#onTimer, Math.min(MAX_DELAY_MS, Math.max(1, Math.ceil(at - monotonicMs())))).unref();
  }

  readonly #onTimer = (): void => {
    this.#timer = undefined;
    if (this.#closed || this.#deadline === Infinity) return;
    if (monotonicMs() < this.#deadline) return this.#setDeadline(this.#deadline);
    this.#deadline = Infinity;
    const error = this.#expired;
    if (error) this.destroy(error());
    else this.#socket.destroy();
  };

  #disarm(): void {
    this.#deadline = Infinity;
  }
}

/**
 * The descriptor of a connected socket, for the native pump. Node keeps it on the socket's
 * internal handle only (`_handle.fd`, there on POSIX systems); undefined where it is not.
 */
function socketFd(socket: Socket): number | undefined {
  // Not in Node's types: the handle is internal, read here for its descriptor only.
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

/** What stopped the pump, as the errors of a body read here: a cut body, a silence, a system error. */
function pumpError(errno: number, writing: boolean): Error {
  if (errno === -1) return otherSideClosed();
  if (errno === ETIMEDOUT && !writing) return bodyTimeout();
  return systemError(errno, writing ? 'write' : 'read');
}

/** Tells the handler of a request taken off its connection that it failed. */
function report({ exchange, controller }: { exchange: Exchange; controller: Controller }, error: Error): void {
  try {
    exchange.handler.onResponseError?.(controller, error);
  } catch {
    // A handler that throws on an error has nothing left to tell.
  }
}

/** `Keep-Alive: timeout=N` of a response, in ms. */
function keepAliveHint(value: string | string[] | undefined): number | undefined {
  const text = Array.isArray(value) ? value.join(',') : value;
  const match = text === undefined ? null : /timeout\s*=\s*(\d+)/i.exec(text);
  return match ? Number(match[1]) * 1000 : undefined;
}
