import { closeSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import type { Dispatcher } from 'undici';
import { BodyLengthError } from '../errors/errors.js';
import type { Timeouts } from '../errors/classify.js';
import type { TransferProgress, TransferStart } from '../fs/part-writer.js';
import { setBounded } from '../utils/bounded-map.js';
import { loadLater } from '../utils/load-later.js';
import { onAbort } from '../utils/on-abort.js';
import type { SharesConnections, Transport } from './agent.js';
import type { HandedConnection } from './h1/connection.js';
import { bodyTimeout, connectTimeout, headersTimeout, otherSideClosed, systemError } from './h1/http-error.js';
import { requestHead } from './h1/request-head.js';
import { ResponseParser, type ResponseHeaders } from './h1/response-parser.js';
import { validatorOf } from './validator.js';
import { limitMs, loadNativeAddon } from './native-addon.js';
import { bareHostname, isAddress } from './origin-of.js';
import { monotonicMs } from '../utils/clock.js';

/**
 * dl's native fetcher (native/fetcher.c): whole exchanges for small files (request, answer,
 * `.part`, rename) on a thread of its own, so that the JavaScript thread only starts a job and
 * records its end. In a bulk run of small files that thread was dl's critical path, and most of
 * its time went to the system calls and the parsing that the fetcher now does
 * (docs/architecture.md, "The native fetcher"). Built with the native pump where dl is
 * installed, on Linux; without it, or with DL_NATIVE=0, every exchange is JavaScript's.
 */
interface Addon {
  start(callback: Settle, progress: Float64Array): void;
  fetch(
    id: number,
    origin: string,
    addresses: string,
    port: number,
    head: string,
    part: string,
    final: string,
    limit: number,
    connectMs: number,
    headersMs: number,
    bodyMs: number,
    slot: number,
  ): void;
  cancel(id: number): void;
  closeIdle(): void;
  ref(on: boolean): void;
}

/** The addon's results (native/fetcher.c). */
const DONE = 0;
const CLOSED = -1;
const TIMEOUT = -3;
const CANCELED = -4;
const HANDED = -5;
/** The stage a system error came from (native/fetcher.c), as the system call's name. */
const STAGE_SYSCALLS = ['', 'connect', 'read', 'open', 'write', 'close', 'rename'] as const;
/** A timeout by its stage (native/fetcher.c: 1 connect, 2 headers, 3 body), as dl's connections give it. */
const TIMEOUTS = [undefined, connectTimeout, headersTimeout, bodyTimeout] as const;

/**
 * Bodies up to this size are the fetcher's. A bigger one is handed over to JavaScript's
 * connections, which hand it to the native pump, with the file's write queue and its checks.
 */
export const SMALL_BODY_BYTES = 256 * 1024;
/**
 * An origin whose answers were handed over this many times more than they were taken is left to
 * JavaScript for the rest of the run: each hand-over costs the fetcher a connection.
 */
const HAND_OVERS_TO_GIVE_UP = 8;
/** Exchanges under way at most that report their progress (more wait for JavaScript's way). */
const SLOTS = 4096;
/** How often the progress of bodies under way is brought up to date. */
const PROGRESS_MS = 200;
/** How long a name's addresses are used before they are looked up again. */
const ADDRESSES_MS = 60_000;
/** Host names and origins a run remembers at most (addresses, hand-overs): see utils/bounded-map.ts. */
const REMEMBERED = 10_000;

export interface SmallFetch {
  url: URL;
  headers: Record<string, string>;
  part: string;
  final: string;
  /** Largest body accepted (--max-filesize); a bigger one is handed over. */
  maxBytes: number | undefined;
  signal: AbortSignal;
  /** Kept up to date while the body flows. */
  progress: TransferProgress;
  /** Told the version of a `.part` that a failure leaves to resume, as part-writer.ts tells it. */
  onStart(start: TransferStart): void;
}

type Settle = (id: number, result: number, detail: number, bytes: number, kept: Buffer | undefined) => void;

/** An exchange under way, and where its result goes. */
interface Waiting {
  id: number;
  request: SmallFetch;
  fetcher: NativeFetcher;
  stopWatching: () => void;
  resolve: (fetched: number | HandedOver) => void;
  reject: (error: unknown) => void;
}

/** Exchanges the fetcher made in this process, and how they ended (for reports, and for tests to tell it was used). */
export const fetched = { exchanges: 0, whole: 0, handedOver: 0 };

let addon: Addon | null | undefined;
/**
 * Exchanges under way, by slot: an array, not a Map keyed by id. A Map that an entry enters and
 * leaves per job keeps what it let go of alive for the young-generation collector (see
 * utils/on-abort.ts), and with each entry its whole job was promoted: in a run of 100,000 tiny
 * files, 83 MB was promoted with a Map and 21-24 MB without.
 */
const bySlot: Array<Waiting | undefined> = Array.from({ length: SLOTS }, () => undefined);
/** An exchange's id is `n * SLOTS + slot`, unique per process, so that its slot is `id % SLOTS`. */
let nextN = 1;
/**
 * Per slot: the body's bytes written and its length (-1 unknown), written by the engine's thread.
 * Over an ArrayBuffer of its own, whose memory V8 never moves.
 */
const progressState = new Float64Array(new ArrayBuffer(SLOTS * 2 * Float64Array.BYTES_PER_ELEMENT));
const freeSlots = Array.from({ length: SLOTS }, (_, slot) => SLOTS - 1 - slot);
/** The built addon, relative to the package root. */
const FETCHER_ADDON = 'native/build/Release/fetcher.node';
let ticker: NodeJS.Timeout | undefined;

/** The addon, started, if it was built and is not turned off; looked for once a process. */
function started(): Addon | undefined {
  if (addon === undefined) {
    addon = null;
    const loaded = loadNativeAddon<Addon>(FETCHER_ADDON);
    try {
      loaded?.start(settle, progressState);
      addon = loaded ?? null;
    } catch {
      // Started already by another thread of this process: JavaScript it is.
    }
  }
  return addon ?? undefined;
}

/** Whether this process can use the fetcher: it was built here, and is not turned off. */
export function fetcherAvailable(): boolean {
  return started() !== undefined;
}

function settle(id: number, result: number, detail: number, bytes: number, kept: Buffer | undefined): void {
  const slot = id % SLOTS;
  const done = bySlot[slot];
  if (done?.id !== id) return;
  bySlot[slot] = undefined;
  freeSlots.push(slot);
  if (freeSlots.length === SLOTS) {
    // Only exchanges under way keep the process alive, as sockets do.
    addon?.ref(false);
    clearInterval(ticker);
    ticker = undefined;
  }
  done.stopWatching();
  done.fetcher.settled(done, result, detail, bytes, kept);
}

/** Brings the progress of every body under way up to date (one timer for all of them). */
function tick(): void {
  for (let slot = 0; slot < SLOTS; slot++) {
    const progress = bySlot[slot]?.request.progress;
    const total = progressState[2 * slot + 1]!;
    if (!progress || total < 0) continue; // no head yet
    progress.bytes = progressState[2 * slot]!;
    progress.total = total;
  }
}

/**
 * What the fetcher hands over with an answer it does not take: a dispatcher whose first request
 * is that one, already sent, read on over the handed connection by dl's own connections (which
 * keep the connection for the origin's next requests); any later request (a redirect's next
 * hop) is the run's dispatcher's as usual.
 */
export class HandedOver {
  #handed: HandedConnection | undefined;

  constructor(
    handed: HandedConnection,
    private readonly next: Adopting,
  ) {
    this.#handed = handed;
  }

  dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const handed = this.#handed;
    if (!handed) return this.next.dispatch(opts, handler);
    this.next.adopt(handed, opts, handler);
    // Only now: until the connection is made over it, the descriptor is this object's to close.
    this.#handed = undefined;
    return true;
  }

  /** Closes the handed connection if no request took it (the attempt ended before it asked). */
  release(): void {
    if (this.#handed) closeSync(this.#handed.fd);
    this.#handed = undefined;
  }
}

/** A dispatcher that shares its connections with the fetcher: dl's own, with no interceptor (http/agent.ts). */
type Adopting = Pick<Transport, 'dispatch'> & SharesConnections;

/**
 * A run's way into the fetcher. An origin whose answers are mostly handed over (redirects,
 * error statuses, chunked or big bodies) is left to JavaScript for the rest of the run (see
 * HAND_OVERS_TO_GIVE_UP).
 */
export class NativeFetcher {
  /** Per origin, answers handed over less answers taken, at least 0. */
  readonly #handOvers = new Map<string, number>();
  readonly #addresses = new Map<string, { at: number; list: Promise<string> }>();

  private constructor(
    private readonly addon: Addon,
    private readonly timeouts: Timeouts,
    private readonly dispatcher: Adopting,
  ) {}

  /**
   * The fetcher for a run whose requests go to `dispatcher`, or undefined when they cannot use
   * it: the dispatcher must take handed connections, which only dl's own do, not undici's
   * through a proxy, nor any with the cookie jar's interceptor, which must see every answer.
   */
  static forRun(timeouts: Timeouts, dispatcher: Transport): NativeFetcher | undefined {
    const loaded = dispatcher.adopt && dispatcher.hasIdle ? started() : undefined;
    return loaded && new NativeFetcher(loaded, timeouts, dispatcher as Adopting);
  }

  /**
   * Fetches `url` into `part`, renamed to `final` once whole: the body's length; or the answer
   * handed over, to read on with the run's dispatcher (see HandedOver); or, at once or once the
   * name is looked up, undefined when the fetcher does not take the request (JavaScript's to
   * make: on a connection of its own that is free, say, which is used before another is opened).
   * Failures are thrown as dl's JavaScript connections throw them, so that errors/classify.ts
   * reads both alike, and a `.part` they leave is kept to resume as part-writer.ts keeps it.
   * Not an async function: a job that the fetcher takes costs one promise, not one per step.
   */
  fetch(request: SmallFetch): Promise<number | HandedOver | undefined> | undefined {
    const { url } = request;
    const { origin } = url;
    if (url.protocol !== 'http:' || freeSlots.length === 0 || (this.#handOvers.get(origin) ?? 0) >= HAND_OVERS_TO_GIVE_UP || this.dispatcher.hasIdle(origin)) return undefined;
    let head: string;
    try {
      head = requestHead('GET', url.pathname + url.search, url.host, request.headers);
    } catch {
      return undefined; // JavaScript's way says what is wrong with the header
    }
    const addresses = this.#addressesOf(url.hostname);
    if (typeof addresses === 'string') return this.#send(request, origin, head, addresses);
    return addresses.then((list) => this.#send(request, origin, head, list));
  }

  /** Hands the request to the engine; undefined when it cannot take it (see fetch). */
  #send(request: SmallFetch, origin: string, head: string, addresses: string): Promise<number | HandedOver> | undefined {
    const { url, signal } = request;
    if (signal.aborted) return Promise.reject(signal.reason);
    // Slots can have been taken while the name was looked up, by other jobs.
    if (freeSlots.length === 0) return undefined;
    const limit = Math.min(SMALL_BODY_BYTES, request.maxBytes ?? SMALL_BODY_BYTES);
    const { connectMs, headersMs, idleMs } = this.timeouts;
    const slot = freeSlots.pop()!;
    const id = nextN++ * SLOTS + slot;
    progressState[2 * slot + 1] = -1;
    try {
      this.addon.fetch(id, origin, addresses, Number(url.port || 80), head, request.part, request.final, limit, limitMs(connectMs), limitMs(headersMs), limitMs(idleMs), slot);
    } catch {
      // No address the engine can use (one with a zone id, say): JavaScript's way, which can.
      freeSlots.push(slot);
      return undefined;
    }
    fetched.exchanges++;
    if (freeSlots.length === SLOTS - 1) {
      // The first exchange under way.
      this.addon.ref(true);
      ticker = setInterval(tick, PROGRESS_MS).unref();
    }
    // Registered after the call, safely: the engine's answer comes in a later turn of the event loop.
    return new Promise((resolve, reject) => {
      bySlot[slot] = { id, request, fetcher: this, resolve, reject, stopWatching: onAbort(signal, () => this.addon.cancel(id)) };
    });
  }

  /** @internal The engine's result for an exchange of this fetcher's (see settle). */
  settled(done: Waiting, result: number, detail: number, bytes: number, kept: Buffer | undefined): void {
    const { origin } = done.request.url;
    if (result === DONE) {
      fetched.whole++;
      const handed = this.#handOvers.get(origin);
      if (handed === 1) this.#handOvers.delete(origin);
      else if (handed) this.#handOvers.set(origin, handed - 1);
      return done.resolve(bytes);
    }
    if (result === HANDED) {
      fetched.handedOver++;
      setBounded(this.#handOvers, origin, (this.#handOvers.get(origin) ?? 0) + 1, REMEMBERED);
      return done.resolve(new HandedOver({ fd: detail, read: kept! }, this.dispatcher));
    }
    const error = failure(result, detail, bytes, done.request.signal);
    if (!kept) return done.reject(error);
    keepToResume(done.request, kept, bytes).then(() => done.reject(error), done.reject);
  }

  /** Closes the connections no exchange uses (at the end of a run). */
  close(): void {
    this.addon.closeIdle();
  }

  /** The addresses of a name, comma-separated, looked up at most once a minute; an address as it is. */
  #addressesOf(hostname: string): string | Promise<string> {
    const bare = bareHostname(hostname);
    if (isAddress(bare)) return bare;
    const now = monotonicMs();
    let known = this.#addresses.get(bare);
    if (!known || now - known.at > ADDRESSES_MS) {
      known = { at: now, list: dns().lookup(bare, { all: true }).then((found) => found.map((one) => one.address).join(',')) };
      // A failed lookup is not kept: the next attempt asks again.
      known.list.catch(() => this.#addresses.delete(bare));
      setBounded(this.#addresses, bare, known, REMEMBERED);
    }
    return known.list;
  }
}

/**
 * After a failure once the body had begun: the `.part` stays for the next attempt when the
 * answer's head gives its version, as part-writer.ts keeps a body cut short; else it goes.
 */
async function keepToResume(request: SmallFetch, head: Buffer, bytes: number): Promise<void> {
  const headers = headersOf(head);
  const validator = headers && validatorOf(headers);
  request.progress.bytes = bytes;
  const keep = validator !== undefined && bytes > 0;
  // Recorded as part-writer.ts records a body that went to its file: started, not done.
  request.onStart({ offset: 0, validator: keep ? validator : undefined });
  if (!keep) await unlink(request.part).catch(() => undefined);
}

/** The headers of an answer's head, as dl's connections read them; undefined if they cannot be read. */
function headersOf(head: Buffer): ResponseHeaders | undefined {
  let headers: ResponseHeaders | undefined;
  const parser = new ResponseParser({ onHead: (_status, _text, found) => (headers = found), onBody: () => undefined, onEnd: () => undefined });
  parser.expect('GET');
  try {
    parser.feed(head, 0, head.length);
  } catch {
    return undefined;
  }
  return headers;
}

/** Most runs name their hosts by address, or none of them over plain http. */
const dns = loadLater<typeof import('node:dns/promises')>('node:dns/promises');

/** A failed exchange as the error dl's JavaScript connections give for it. */
function failure(result: number, detail: number, bytes: number, signal: AbortSignal): unknown {
  if (result === CANCELED) return signal.reason;
  if (result === TIMEOUT) return (TIMEOUTS[detail] ?? bodyTimeout)();
  if (result === CLOSED) return detail >= 0 ? new BodyLengthError(bytes, detail) : otherSideClosed();
  return systemError(result, STAGE_SYSCALLS[detail] ?? 'read');
}
