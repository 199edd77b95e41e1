import { close, writev } from 'node:fs';
import { giveBack } from '../http/h1/read-buffer.js';

/** Bytes waiting to be written past which the body is paused. */
const HIGH_WATER = 8 << 20;

/** What a PartFile pauses and resumes: the body it is written from. */
export interface Flow {
  pause(): void;
  resume(): void;
}

/**
 * An open `.part` that a body is appended to. Pieces that arrive while a write is under way are
 * queued and go out together in one `writev`: each write is a thread-pool round trip, so a fast
 * body is written in a few large batches rather than one write per socket read. While too much
 * waits, the body is paused. Write errors go to `onError` once; `close()` waits for the writes.
 */
export class PartFile {
  #queue: Buffer[] = [];
  #queued = 0;
  #writing = false;
  #paused = false;
  #error: unknown;
  /** Called once nothing is queued or being written. */
  #idle: (() => void)[] = [];
  #closed: Promise<void> | undefined;

  constructor(
    readonly fd: number,
    private readonly flow: Flow,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Appends one piece, or several at once (which go out in one batch). */
  write(pieces: Buffer | readonly Buffer[]): void {
    const chunks = Buffer.isBuffer(pieces) ? [pieces] : pieces;
    // Nothing yet (a resumed or big body is in its file before its first piece): no empty write,
    // which would be a trip to the thread pool that the first piece would wait behind.
    if (this.#error !== undefined || chunks.length === 0) return;
    for (const chunk of chunks) {
      this.#queue.push(chunk);
      this.#queued += chunk.length;
    }
    if (!this.#writing) this.#flush();
    else if (this.#queued >= HIGH_WATER && !this.#paused) {
      this.#paused = true;
      this.flow.pause();
    }
  }

  /**
   * Waits for what is queued to be written, then closes the file; rejects with a write error.
   * Closes once: a second call (an abort racing the body's end) gets the same answer.
   */
  close(): Promise<void> {
    this.#closed ??= new Promise((resolve, reject) => {
      const closeNow = (): void =>
        close(this.fd, (closeError) => {
          const error = this.#error ?? closeError ?? undefined;
          if (error) reject(error);
          else resolve();
        });
      if (this.#writing) this.#idle.push(closeNow);
      else closeNow();
    });
    return this.#closed;
  }

  /**
   * Resolves once everything queued is written, or a write failed (onError was told): the file's
   * offset is then at the end of what the body gave it.
   */
  written(): Promise<void> {
    if (!this.#writing) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #flush(): void {
    const batch = this.#queue;
    this.#queue = [];
    this.#queued = 0;
    this.#writing = true;
    writeAll(this.fd, batch, (error) => {
      this.#writing = false;
      if (error) {
        this.#error = error;
        this.onError(error);
      } else {
        // On disk: pieces lent by a connection's read buffer can take its next reads.
        for (const piece of batch) giveBack(piece);
        if (this.#queue.length > 0) this.#flush();
      }
      if (this.#paused && this.#queued < HIGH_WATER) {
        this.#paused = false;
        this.flow.resume();
      }
      if (!this.#writing) {
        const idle = this.#idle;
        this.#idle = [];
        for (const then of idle) then();
      }
    });
  }
}

/** `writev` until every byte of `buffers` is written (a write may take fewer bytes than given). */
function writeAll(fd: number, buffers: Buffer[], callback: (error: NodeJS.ErrnoException | null) => void): void {
  writev(fd, buffers, (error, written) => {
    if (error) return callback(error);
    let rest = written;
    let at = 0;
    while (at < buffers.length && rest >= buffers[at]!.length) rest -= buffers[at++]!.length;
    if (at === buffers.length) return callback(null);
    const remaining = buffers.slice(at);
    remaining[0] = remaining[0]!.subarray(rest);
    writeAll(fd, remaining, callback);
  });
}
