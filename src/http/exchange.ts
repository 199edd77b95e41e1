import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import { onAbort } from '../utils/on-abort.js';
import type { Pumping } from './h1/native-pump.js';
import { giveBack } from './h1/read-buffer.js';

/** Where a response body goes, piece by piece. */
export interface BodySink {
  data(chunk: Buffer): void;
  end(): void;
  error(error: unknown): void;
}

/** Body bytes held for a reader that has not come yet; past this the connection is paused. */
const HOLD_BYTES = 1 << 20;
/** How much of an unwanted body is read so that its connection can be kept. */
const DRAIN_BYTES = 64 * 1024;

/**
 * A response body as undici's dispatch API hands it over: pushed, piece by piece, paused and
 * resumed on the connection itself. No stream object per response: for a bulk run of small
 * files, a Readable and its events cost more than the request itself. Pieces that arrive before
 * a reader is given (often the whole of a small body comes with the headers) are held.
 */
export class ResponseBody {
  #controller: Dispatcher.DispatchController | undefined;
  #sink: BodySink | undefined;
  #held: Buffer[] = [];
  #heldBytes = 0;
  /** undefined while the body flows; then true (ended) or the error it ended with. */
  #ended: true | { error: unknown } | undefined;
  #discarded = false;
  /** The reader asked for a pause (and has not resumed). */
  #paused = false;

  /** @internal Called by the handler: the controller of the connection the body comes on. */
  attach(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
  }

  /** @internal */
  push(chunk: Buffer): void {
    if (this.#discarded) return giveBack(chunk);
    if (this.#sink) return this.#sink.data(chunk);
    this.#held.push(chunk);
    this.#heldBytes += chunk.length;
    if (this.#heldBytes > HOLD_BYTES) this.#controller?.pause();
  }

  /** @internal */
  finish(error?: unknown): void {
    if (this.#ended) return;
    this.#ended = error === undefined ? true : { error };
    if (!this.#sink) return;
    if (error === undefined) this.#sink.end();
    else this.#sink.error(error);
  }

  /** Sends the body to `sink`: what was held first, then the rest as it comes. */
  read(sink: BodySink): void {
    if (this.#sink) throw new Error('response body read twice');
    this.#sink = sink;
    if (this.#discarded) return sink.error(new DiscardedError());
    const held = this.#held;
    this.#held = [];
    const wasHeld = this.#heldBytes > HOLD_BYTES;
    this.#heldBytes = 0;
    for (const chunk of held) {
      if (this.#discarded) return;
      sink.data(chunk);
    }
    if (this.#discarded) return;
    if (this.#ended === true) sink.end();
    else if (this.#ended) sink.error(this.#ended.error);
    else if (wasHeld && !this.#paused) this.#controller?.resume();
  }

  /**
   * Body bytes still to come that the native pump could move straight into a file (see
   * http/h1/native-pump.ts): only on dl's own connections, for a body framed by Content-Length,
   * once it is being read and nothing is held. 0 when it cannot.
   */
  pumpable(): number {
    const controller = this.#controller as Partial<Pumping> | undefined;
    if (!this.#sink || this.#held.length > 0 || this.#ended || this.#discarded || !controller?.pumpable) return 0;
    return controller.pumpable();
  }

  /**
   * Sends the rest of the body (pumpable() bytes) into the file `fd` by the native pump; `state`
   * as for NativePump.pump. The reader hears no data() for those bytes, then end() or error().
   * False when the pump could not start: the body then goes on as before (resumed).
   */
  pump(fd: number, state: Float64Array): boolean {
    return (this.#controller as unknown as Pumping).pump(fd, state);
  }

  /** Stops reading from the connection (the reader has more than it can write for now). */
  pause(): void {
    this.#paused = true;
    this.#controller?.pause();
  }

  resume(): void {
    this.#paused = false;
    this.#controller?.resume();
  }

  /**
   * Reads a short body to its end (an error page, a redirect), so that the connection can serve
   * the next request; one longer than `limit` is let go, and its connection with it.
   */
  drain(limit = DRAIN_BYTES): Promise<void> {
    return new Promise((resolve) => {
      let bytes = 0;
      this.read({
        data: (chunk) => {
          bytes += chunk.length;
          giveBack(chunk);
          if (bytes > limit) {
            this.discard();
            resolve();
          }
        },
        end: resolve,
        error: () => resolve(),
      });
    });
  }

  /** Lets the body go: the connection is closed unless the body had already ended. */
  discard(): void {
    for (const chunk of this.#held) giveBack(chunk);
    this.#held = [];
    this.#discarded = true;
    if (this.#ended) return;
    const reason = new DiscardedError();
    this.#ended = { error: reason };
    this.#controller?.abort(reason);
  }
}

class DiscardedError extends Error {
  override name = 'AbortError';
  code = 'ABORT_ERR';
}

export interface ResponseHead {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: ResponseBody;
}

/**
 * Sends a GET and resolves with the response's status and headers once they arrive; the body
 * follows through `body`. An abort of `signal` ends the exchange (before or during the body)
 * with the signal's reason.
 */
export function exchange(
  dispatcher: Pick<Dispatcher, 'dispatch'>,
  url: URL,
  headers: Record<string, string>,
  signal: AbortSignal,
): Promise<ResponseHead> {
  return new Promise((resolve, reject) => {
    const body = new ResponseBody();
    let controller: Dispatcher.DispatchController | undefined;
    let started = false;
    if (signal.aborted) return reject(signal.reason);
    const done = onAbort(signal, () => controller?.abort(signal.reason as Error));
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(ctl) {
        controller = ctl;
        body.attach(ctl);
        if (signal.aborted) ctl.abort(signal.reason as Error);
      },
      onResponseStart(ctl, statusCode, responseHeaders) {
        // undici hands informational answers (103 Early Hints, 102) over too; the answer follows.
        if (statusCode < 200) return;
        started = true;
        body.attach(ctl);
        resolve({ statusCode, headers: responseHeaders, body });
      },
      onResponseData(_ctl, chunk) {
        body.push(chunk);
      },
      onResponseEnd() {
        done();
        body.finish();
      },
      onResponseError(_ctl, error) {
        done();
        if (started) body.finish(error);
        else reject(error);
      },
    };
    try {
      dispatcher.dispatch({ origin: url.origin, path: url.pathname + url.search, method: 'GET', headers }, handler);
    } catch (error) {
      // A request undici refuses outright (a header value it cannot send, say).
      done();
      reject(error);
    }
  });
}
