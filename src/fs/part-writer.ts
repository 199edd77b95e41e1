import type { Hash } from 'node:crypto';
import { closeSync, constants, createReadStream, fstatSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { BodyLengthError, ChecksumError, FileTooLargeError, ResumeError } from '../errors/errors.js';
import type { Validator } from '../http/validator.js';
import type { ResponseBody } from '../http/exchange.js';
import { giveBack } from '../http/h1/read-buffer.js';
import { loadLater } from '../utils/load-later.js';
import { SlotArray } from '../utils/slot-array.js';
import { PartFile } from './part-file.js';
import { monotonicMs } from '../utils/clock.js';

/** Bodies are kept in memory until they are this large, or take this long; then they stream to `.part`. */
const MEMORY_BYTES = 256 * 1024;
const MEMORY_MS = 100;
/**
 * A body with at least this much still to come once it goes to its `.part` is moved there by the
 * native pump, where there is one (http/h1/native-pump.ts): less, and the hand-over costs more
 * than the pump saves.
 */
const PUMP_BYTES = 4 << 20;
/** How often the progress of a pumped body is brought up to date. */
const PUMP_PROGRESS_MS = 200;
/** A small file written synchronously in more than this is slow (see slowShare). */
const SYNC_BUDGET_MS = 0.3;

/**
 * How a `.part` is opened. Never through a link someone planted in the destination folder: a
 * fresh one is created anew with O_EXCL and O_NOFOLLOW (see openFresh);
 * one being continued is opened with O_NOFOLLOW (and was checked to be a plain file with one
 * link before its size was trusted, see http/transfer.ts).
 */
const FRESH = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
const APPEND = constants.O_WRONLY | constants.O_APPEND | constants.O_NOFOLLOW;

/**
 * A new, empty `.part`. Whatever already has the name (a stale file, a symlink, a hard link) is
 * removed first; tried only when the plain create fails, since an unlink per file costs.
 */
function openFresh(part: string): number {
  try {
    return openSync(part, FRESH, 0o644);
  } catch (error) {
    clearWhenTaken(error, part);
  }
  return openSync(part, FRESH, 0o644);
}

/** After a fresh create failed: the name was taken, so what had it goes; any other failure is thrown. */
function clearWhenTaken(error: unknown, part: string): void {
  if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  clear(part);
}

/**
 * The `.part` a resumed body is appended to, checked again once open: something planted under
 * its name since it was measured (a hard link) must not be written through.
 */
function openToContinue(part: string): number {
  const fd = openSync(part, APPEND);
  const info = fstatSync(fd);
  if (info.isFile() && info.nlink === 1) return fd;
  closeSync(fd);
  throw new ResumeError('the partial file was replaced while resuming; starting again');
}

/** Removes whatever has this name, if anything. */
function clear(part: string): void {
  try {
    unlinkSync(part);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/** Live counters of one transfer; reporters read them, the transfer never waits on them. */
export interface TransferProgress {
  bytes: number;
  /** Expected size, when the server said (Content-Length or Content-Range). */
  total: number | undefined;
}

/** What the bytes about to be written continue: the joblog's `start` record is made of it. */
export interface TransferStart {
  /** Bytes already in the `.part` file that this response continues (0: from the start). */
  offset: number;
  validator: Validator | undefined;
}

export interface PartTarget {
  part: string;
  final: string;
  /** Bytes already in `.part` that this body continues (0: a fresh file). */
  from: number;
  /** Version of this body; recorded (through onStart) only once `.part` holds its bytes. */
  validator: Validator | undefined;
  /** Expected final size, when known: anything else is an error and nothing is renamed. */
  total: number | undefined;
  progress: TransferProgress;
  onStart(start: TransferStart): void;
  /** A body that grows past this fails with FILE_TOO_LARGE (for bodies of unknown length). */
  maxBytes?: number;
  /** Digests to compute while the file is written (for the done record). */
  digests?: readonly DigestName[];
  /** A checksum the file must match before it gets its final name. */
  expect?: { algorithm: DigestName; hex: string };
}

export type DigestName = 'sha256' | 'sha1' | 'md5';

/** What was written: the digests (hex) that were asked for. */
export interface Written {
  digests: Partial<Record<DigestName, string>>;
}

/**
 * Puts a response body under its final name, through `<final>.part`. A body that arrives
 * quickly and is small (the common case in bulk runs) is collected in memory and written in one
 * go: each file-system call is a thread-pool round trip, and on a two-core machine every round
 * trip is a context switch; while this disk answers quickly, that one write is even made
 * synchronously. A larger or slower body is appended to `.part` as it comes (see PartFile), so
 * that a break leaves it there to resume with Range. A body that breaks while still in memory
 * leaves what it had in `.part` too. The version of what `.part` holds is recorded (onStart)
 * only after `.part` holds it: a crash can lose the record, but never leave one describing bytes
 * of another version.
 */
export function writeBody(body: ResponseBody, target: PartTarget): Promise<Written> {
  const { progress } = target;
  progress.bytes = target.from;
  progress.total = target.total;
  let hashes: Hashes;
  try {
    hashes = hashesFor(target);
  } catch (error) {
    return Promise.reject(error);
  }
  // A resumed file's digest starts with the bytes already in .part (the body is held meanwhile).
  // Not an async function: most bodies have no digest to start, and the promise of an async
  // function that returns one costs two more microtask turns.
  if (hashes.length > 0 && target.from > 0) return hashPart(target, hashes).then(() => writeHashed(body, target, hashes));
  return writeHashed(body, target, hashes);
}

/** Feeds the bytes already in `.part` to the hashes of a resumed body. */
async function hashPart(target: PartTarget, hashes: Hashes): Promise<void> {
  for await (const chunk of createReadStream(target.part, { end: target.from - 1 })) {
    for (const [, hash] of hashes) hash.update(chunk as Buffer);
  }
}

function writeHashed(body: ResponseBody, target: PartTarget, hashes: Hashes): Promise<Written> {
  const { progress } = target;
  const update = (chunk: Buffer): void => {
    for (const [, hash] of hashes) hash.update(chunk);
  };
  /** The digests, or the checksum error that keeps the file from its final name. */
  const finish = (): Written | ChecksumError => {
    const digests: Written['digests'] = {};
    for (const [name, hash] of hashes) digests[name] = hash.digest('hex');
    const { expect } = target;
    if (expect && digests[expect.algorithm] !== expect.hex) return new ChecksumError(expect.algorithm, expect.hex, digests[expect.algorithm]!);
    return { digests };
  };
  return new Promise<Written>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let buffered = 0;
    let file: PartFile | undefined;
    let settled = false;
    /** Whether the body was looked at for the pump (once it goes to a file and is read). */
    let pumpLooked = false;
    /** While the pump moves the rest of the body: its shared state, and the bytes before it. */
    let pumping: { state: Float64Array; from: number; ticker: NodeJS.Timeout } | undefined;
    /** Counts the bytes the pump moved; the pump has let go when the body ends or fails. */
    const pumped = (): void => {
      if (!pumping) return;
      clearInterval(pumping.ticker);
      progress.bytes = pumping.from + pumping.state[0]!;
      pumping = undefined;
    };
    /**
     * The rest of a big body to the native pump: reading stops, what is queued for the file is
     * written (the pump writes at the file's offset), then the pump takes the connection.
     */
    const toPump = (): void => {
      pumpLooked = true;
      // A digest needs every byte, and a size limit the pump cannot see needs them counted.
      if (!file || hashes.length > 0) return;
      const left = body.pumpable();
      if (left < PUMP_BYTES || (target.maxBytes !== undefined && progress.bytes + left > target.maxBytes)) return;
      const writing = file;
      body.pause();
      // After the read under way: its pieces still come (data()), and are queued too.
      setImmediate(() =>
        writing.written().then(() => {
          if (settled || file !== writing || body.pumpable() === 0) return body.resume();
          // Over an ArrayBuffer of its own, whose memory V8 never moves: the pump's thread writes it.
          const state = new Float64Array(new ArrayBuffer(16));
          const from = progress.bytes;
          const ticker = setInterval(() => (progress.bytes = from + state[0]!), PUMP_PROGRESS_MS).unref();
          pumping = { state, from, ticker };
          if (body.pump(writing.fd, state)) return;
          // Not started: nothing was moved, and the body reads on as before.
          clearInterval(ticker);
          pumping = undefined;
          body.resume();
        }),
      );
    };
    const sweep: InMemory = { since: monotonicMs(), toFile: () => toFile() };
    // Straight to .part: a resumed body appends to the file it continues, and a body said to be
    // big would outgrow memory anyway (in its file from the first piece on, it goes to the pump at
    // that piece rather than after 256 KiB in memory, 2-5 ms sooner).
    const atOnce = target.from > 0 || (target.total !== undefined && target.total - target.from >= PUMP_BYTES);
    // Its slot among the bodies in memory, until it leaves them (once: a slot is used again).
    let held = atOnce ? -1 : holdInMemory(sweep);
    const leaveMemory = (): void => {
      if (held === -1) return;
      inMemory.remove(held);
      held = -1;
    };

    const fail = (error: unknown): void => {
      if (settled) return;
      settled = true;
      leaveMemory();
      body.discard();
      const keep = (): void => reject(error);
      // The .part is closed (and holds what it holds) before the caller goes on.
      if (file) file.close().then(keep, keep);
      else keepPartial(chunks, target).then(keep, keep);
    };

    /** From memory to `.part` (created anew, or opened to append, before its version is recorded). */
    const toFile = (): void => {
      if (file || settled) return;
      leaveMemory();
      let fd: number;
      try {
        fd = target.from > 0 ? openToContinue(target.part) : openFresh(target.part);
      } catch (error) {
        fail(error);
        return;
      }
      // The .part is open (and for a fresh start, new and empty): now its version may be recorded.
      target.onStart({ offset: target.from, validator: target.validator });
      file = new PartFile(fd, body, fail);
      file.write(chunks.splice(0));
    };

    if (atOnce) toFile();
    body.read({
      data(chunk) {
        if (settled) return;
        progress.bytes += chunk.length;
        update(chunk);
        if (target.maxBytes !== undefined && progress.bytes > target.maxBytes) {
          fail(new FileTooLargeError(target.maxBytes, target.maxBytes, false));
          return;
        }
        if (file) {
          file.write(chunk);
          // Looked at with the first piece that goes to the file, once the body is being read.
          if (!pumpLooked) toPump();
          return;
        }
        chunks.push(chunk);
        buffered += chunk.length;
        if (buffered > MEMORY_BYTES) toFile();
      },
      error: (error) => {
        pumped();
        fail(asShortBody(error, progress));
      },
      end() {
        pumped();
        if (settled) return;
        leaveMemory();
        const { total } = target;
        if (total !== undefined && progress.bytes !== total) return fail(new BodyLengthError(progress.bytes, total));
        if (file) {
          settled = true;
          file.close().then(() => {
            const written = finish();
            if (!(written instanceof ChecksumError)) return rename(target.part, target.final).then(() => resolve(written));
            // A .part that does not match its checksum is garbage: nothing to resume from.
            clear(target.part);
            reject(written);
          }).catch(reject);
          return;
        }
        settled = true;
        const written = finish();
        if (written instanceof ChecksumError) return reject(written);
        target.onStart({ offset: 0, validator: undefined });
        const whole = (): void => {
          for (const chunk of chunks) giveBack(chunk);
          resolve(written);
        };
        let writing: Promise<void> | undefined;
        try {
          writing = writeWhole(target.part, target.final, chunks);
        } catch (error) {
          return reject(error);
        }
        if (writing) writing.then(whole, reject);
        else whole();
      },
    });
  });
}

/** Most runs hash nothing. */
const nodeCrypto = loadLater<typeof import('node:crypto')>('node:crypto');

type Hashes = ReadonlyArray<readonly [DigestName, Hash]>;
const NO_HASHES: Hashes = [];

/** The digests a body needs (none, for most bodies of a bulk run: no objects made for them). */
function hashesFor(target: PartTarget): Hashes {
  const { digests = [], expect } = target;
  if (digests.length === 0 && !expect) return NO_HASHES;
  const names = new Set<DigestName>([...digests, ...(expect ? [expect.algorithm] : [])]);
  const { createHash } = nodeCrypto();
  return [...names].map((name) => [name, createHash(name)] as const);
}

/** A connection the server closed before Content-Length was reached: a short body, said so. */
function asShortBody(error: unknown, progress: TransferProgress): unknown {
  const { total, bytes } = progress;
  const closed = (error as { code?: unknown } | undefined)?.code === 'UND_ERR_SOCKET';
  return closed && total !== undefined && bytes < total ? new BodyLengthError(bytes, total) : error;
}

/** A body still kept in memory, and since when. */
interface InMemory {
  since: number;
  toFile(): void;
}

/**
 * Bodies kept in memory. A sweep every MEMORY_MS / 2 moves those that have taken at least that
 * long to their `.part`, so that none stays in memory much longer than MEMORY_MS; one sweep for
 * all bodies rather than a timer per body, which in a bulk run of small files costs more than the
 * check. (A sweep every MEMORY_MS for bodies older than MEMORY_MS let one lose the race with the
 * timer's granularity and wait until the next sweep, 200 ms in all.)
 */
const inMemory = new SlotArray<InMemory>();
let sweeper: NodeJS.Timeout | undefined;
const SWEEP_MS = MEMORY_MS / 2;

function holdInMemory(body: InMemory): number {
  const slot = inMemory.add(body);
  sweeper ??= setInterval(() => {
    const due = monotonicMs() - SWEEP_MS;
    for (const held of inMemory.values()) if (held.since <= due) held.toFile();
    if (inMemory.size === 0) {
      clearInterval(sweeper);
      sweeper = undefined;
    }
  }, SWEEP_MS).unref();
  return slot;
}

/**
 * Share of recent synchronous writes (create, write, close, rename) that took longer than the
 * budget: a running average of 0 (fast) and 1 (slow). Writes go through the thread pool while
 * most are slow (a disk where creating a file costs ~0.6 ms), with a synchronous one now and then
 * to notice when the disk is fast again. A share, not an average of times: on a busy machine a
 * fast disk's write is now and then stretched by a context switch to a millisecond or more, and
 * an average of times let a few of those send every write through the thread pool.
 */
let slowShare = 0;
let asyncWrites = 0;
const PROBE_EVERY = 256;
const SHARE_WEIGHT = 1 / 32;

/**
 * Writes a whole body and gives it its final name: synchronously (returns nothing, or throws)
 * while this disk answers quickly, else through the thread pool (returns the promise of it).
 */
function writeWhole(part: string, final: string, chunks: Buffer[]): Promise<void> | undefined {
  const data = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  if (slowShare > 0.5 && ++asyncWrites % PROBE_EVERY !== 0) {
    return writeFresh(part, data).then(() => rename(part, final));
  }
  // monotonicMs() (process.hrtime), not process.hrtime.bigint(): no BigInt.
  const started = monotonicMs();
  const fd = openFresh(part);
  try {
    for (let at = 0; at < data.length; ) at += writeSync(fd, data, at);
  } finally {
    closeSync(fd);
  }
  renameSync(part, final);
  const slow = monotonicMs() - started > SYNC_BUDGET_MS ? 1 : 0;
  slowShare += (slow - slowShare) * SHARE_WEIGHT;
  return undefined;
}

/** Writes `data` to a new file at `path` (see openFresh), through the thread pool. */
async function writeFresh(path: string, data: Buffer): Promise<void> {
  const handle = await open(path, FRESH, 0o644).catch((error: unknown) => {
    clearWhenTaken(error, path);
    return open(path, FRESH, 0o644);
  });
  try {
    await handle.writeFile(data);
  } finally {
    await handle.close();
  }
}

/** A body that broke while in memory: what arrived goes to `.part`, then its version is recorded. */
async function keepPartial(chunks: Buffer[], target: PartTarget): Promise<void> {
  if (chunks.length === 0 || target.validator === undefined) return;
  try {
    await writeFresh(target.part, Buffer.concat(chunks));
    target.onStart({ offset: 0, validator: target.validator });
  } catch {
    // Nothing to resume from then; the next attempt starts from 0.
  }
}
