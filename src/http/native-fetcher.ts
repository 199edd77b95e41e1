import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import { getSystemErrorName } from 'node:util';
import { BodyLengthError } from '../errors/errors.js';
import type { Timeouts } from '../errors/classify.js';
import { packageFile } from '../package-root.js';
import { loadLater } from '../utils/load-later.js';
import { onAbort } from '../utils/on-abort.js';
import { HttpError, otherSideClosed } from './h1/http-error.js';
import { requestHead } from './h1/request-head.js';

/**
 * dl's native fetcher (native/fetcher.c): whole exchanges for small files (request, answer,
 * `.part`, rename) on a thread of its own, so that the JavaScript thread only starts a job and
 * records its end. In a bulk run of small files that thread was dl's critical path, and most of
 * its time went to the system calls and the parsing that the fetcher now does
 * (docs/architecture.md, "The native fetcher"). Built with the native pump where dl is
 * installed; without it, or with DL_NATIVE=0, every exchange is JavaScript's.
 */
interface Addon {
  start(callback: (id: number, result: number, detail: number, bytes: number) => void): void;
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
  ): void;
  cancel(id: number): void;
  closeIdle(): void;
  ref(on: boolean): void;
}

/** The addon's results (native/fetcher.c). */
const DONE = 0;
const CLOSED = -1;
const NOT_SIMPLE = -2;
const TIMEOUT = -3;
const CANCELED = -4;
const STAGE_SYSCALLS = ['', 'connect', 'read', 'open'] as const;
const TIMEOUT_CODES = ['', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'] as const;
const TIMEOUT_WORDS = ['', 'connect timeout', 'Headers Timeout Error', 'Body Timeout Error'] as const;

/**
 * Bodies up to this size are the fetcher's. A bigger one goes JavaScript's way, which records
 * the version of what its `.part` holds so that a break resumes with Range, shows progress, and
 * hands the body to the native pump.
 */
export const SMALL_BODY_BYTES = 256 * 1024;
/** How long a name's addresses are used before they are looked up again. */
const ADDRESSES_MS = 60_000;

export interface SmallFetch {
  url: URL;
  headers: Record<string, string>;
  part: string;
  final: string;
  /** Largest body accepted (--max-filesize); a bigger one is not simple. */
  maxBytes: number | undefined;
  signal: AbortSignal;
}

type Waiting = (result: number, detail: number, bytes: number) => void;

let addon: Addon | null | undefined;
const waiting = new Map<number, Waiting>();
let nextId = 1;

/** The addon, started, if it was built and is not turned off; looked for once a process. */
function started(): Addon | undefined {
  if (addon === undefined) {
    addon = null;
    if (process.env.DL_NATIVE !== '0') {
      try {
        const loaded = createRequire(import.meta.url)(packageFile(FETCHER_ADDON)) as Addon;
        loaded.start(settle);
        addon = loaded;
      } catch {
        // Not built here, or started already by another thread of this process: JavaScript it is.
      }
    }
  }
  return addon ?? undefined;
}

/** The built addon, relative to the package root. */
export const FETCHER_ADDON = 'native/build/Release/fetcher.node';

function settle(id: number, result: number, detail: number, bytes: number): void {
  const done = waiting.get(id);
  if (!done) return;
  waiting.delete(id);
  // Only exchanges under way keep the process alive, as sockets do.
  if (waiting.size === 0) addon?.ref(false);
  done(result, detail, bytes);
}

/**
 * A run's way into the fetcher. An origin whose answer the fetcher once found not simple (a
 * redirect, an error status, a chunked or big body) is left to JavaScript for the rest of the
 * run, so that such an origin costs one request twice, not every one.
 */
export class NativeFetcher {
  readonly #jsOnly = new Set<string>();
  readonly #addresses = new Map<string, { at: number; list: Promise<string> }>();

  private constructor(
    private readonly addon: Addon,
    private readonly timeouts: Timeouts,
  ) {}

  /** The fetcher for a run, or undefined when this run's exchanges cannot use it. */
  static forRun(timeouts: Timeouts, usable: boolean): NativeFetcher | undefined {
    const loaded = usable ? started() : undefined;
    return loaded && new NativeFetcher(loaded, timeouts);
  }

  /**
   * Fetches `url` into `part`, renamed to `final` once whole: the body's length, or undefined when
   * the answer was not simple (the request is then JavaScript's to make again). Failures are
   * thrown as dl's JavaScript connections throw them, so that errors/classify.ts reads both alike.
   */
  async fetch(request: SmallFetch): Promise<number | undefined> {
    const { url, signal } = request;
    if (url.protocol !== 'http:' || this.#jsOnly.has(url.origin)) return undefined;
    let head: string;
    try {
      head = requestHead('GET', url.pathname + url.search, url.host, request.headers);
    } catch {
      return undefined; // JavaScript's way says what is wrong with the header
    }
    const addresses = await this.#addressesOf(url.hostname);
    signal.throwIfAborted();
    const limit = Math.min(SMALL_BODY_BYTES, request.maxBytes ?? SMALL_BODY_BYTES);
    const { connectMs, headersMs, idleMs } = this.timeouts;
    const id = nextId++;
    const outcome = new Promise<[number, number, number]>((resolve) => {
      if (waiting.size === 0) this.addon.ref(true);
      waiting.set(id, (result, detail, bytes) => resolve([result, detail, bytes]));
    });
    this.addon.fetch(id, url.origin, addresses, Number(url.port || 80), head, request.part, request.final, limit, finite(connectMs), finite(headersMs), finite(idleMs));
    const stopWatching = onAbort(signal, () => this.addon.cancel(id));
    const [result, detail, bytes] = await outcome;
    stopWatching();
    if (result === DONE) return bytes;
    if (result === NOT_SIMPLE) {
      this.#jsOnly.add(url.origin);
      return undefined;
    }
    throw failure(result, detail, bytes, signal);
  }

  /** Closes the connections no exchange uses (at the end of a run). */
  close(): void {
    this.addon.closeIdle();
  }

  /** The addresses of a name, comma-separated, looked up at most once a minute. */
  #addressesOf(hostname: string): Promise<string> {
    const bare = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
    if (isIP(bare)) return Promise.resolve(bare);
    const now = performance.now();
    let known = this.#addresses.get(bare);
    if (!known || now - known.at > ADDRESSES_MS) {
      known = { at: now, list: dns().lookup(bare, { all: true }).then((found) => found.map((one) => one.address).join(',')) };
      // A failed lookup is not kept: the next attempt asks again.
      known.list.catch(() => this.#addresses.delete(bare));
      this.#addresses.set(bare, known);
    }
    return known.list;
  }
}

/** Most runs name their hosts by address, or none of them over plain http. */
const dns = loadLater<typeof import('node:dns/promises')>('node:dns/promises');

/** 0 for no limit, as the addon takes it. */
function finite(ms: number): number {
  return Number.isFinite(ms) && ms > 0 ? ms : 0;
}

/** A failed exchange as the error dl's JavaScript connections give for it. */
function failure(result: number, detail: number, bytes: number, signal: AbortSignal): unknown {
  if (result === CANCELED) return signal.reason;
  if (result === TIMEOUT) return new HttpError(TIMEOUT_CODES[detail] ?? 'UND_ERR_BODY_TIMEOUT', TIMEOUT_WORDS[detail] ?? 'timeout');
  if (result === CLOSED) return detail >= 0 ? new BodyLengthError(bytes, detail) : otherSideClosed();
  const code = getSystemErrorName(-result);
  const syscall = STAGE_SYSCALLS[detail] ?? 'read';
  return Object.assign(new Error(`${syscall} ${code}`), { code, errno: -result, syscall });
}
