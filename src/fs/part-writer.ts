import { createHash } from 'node:crypto';
import { closeSync, constants, createReadStream, createWriteStream, openSync, renameSync, unlinkSync, writeSync, type WriteStream } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { BodyLengthError, ChecksumError, FileTooLargeError } from '../errors/errors.js';
import type { Validator } from '../http/validator.js';
import { discard } from '../utils/discard.js';

/** Bodies are kept in memory until they are this large, or take this long; then they stream to `.part`. */
const MEMORY_BYTES = 256 * 1024;
const MEMORY_MS = 100;
/** Writing a small file synchronously is kept while it costs less than this on average. */
const SYNC_BUDGET_NS = 300_000;

/**
 * How a `.part` is opened. Never through a link someone planted in the destination folder: a
 * fresh one is created anew (after removing whatever had its name) with O_EXCL and O_NOFOLLOW;
 * one being continued is opened with O_NOFOLLOW (and was checked to be a plain file with one
 * link before its size was trusted, see http/transfer.ts).
 */
const FRESH = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
const APPEND = constants.O_WRONLY | constants.O_APPEND | constants.O_NOFOLLOW;

/** Removes whatever has the `.part` name (a stale file, a symlink, a hard link) before a fresh start. */
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
 * synchronously. A larger or slower body streams to `.part`, so that a break leaves it there to
 * resume with Range. A body that breaks while still in memory leaves what it had in `.part`
 * too. The version of what `.part` holds is recorded (onStart) only after `.part` holds it: a
 * crash can lose the record, but never leave one describing bytes of another version.
 */
export async function writeBody(body: Readable, target: PartTarget): Promise<Written> {
  const { progress } = target;
  progress.bytes = target.from;
  progress.total = target.total;
  const names = new Set<DigestName>([...(target.digests ?? []), ...(target.expect ? [target.expect.algorithm] : [])]);
  const hashes = [...names].map((name) => [name, createHash(name)] as const);
  const update = (chunk: Buffer): void => {
    for (const [, hash] of hashes) hash.update(chunk);
  };
  // A resumed file's digest starts with the bytes already in .part (the body waits meanwhile).
  if (hashes.length > 0 && target.from > 0) {
    for await (const chunk of createReadStream(target.part, { end: target.from - 1 })) update(chunk as Buffer);
  }
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
    let file: WriteStream | undefined;
    let settled = false;
    const timer = target.from > 0 ? undefined : setTimeout(() => toFile(), MEMORY_MS);

    const fail = (error: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      discard(body);
      const keep = (): void => reject(error);
      if (file) {
        // Wait until the .part is closed (and holds what it holds) before the caller goes on.
        if (file.closed) keep();
        else {
          file.once('close', keep);
          file.destroy();
        }
      } else {
        keepPartial(chunks, target).then(keep, keep);
      }
    };

    /** From memory to a streamed `.part` (opened, or truncated, before its version is recorded). */
    const toFile = (): void => {
      if (file || settled) return;
      clearTimeout(timer);
      let fd: number;
      try {
        if (target.from === 0) clear(target.part);
        fd = openSync(target.part, target.from > 0 ? APPEND : FRESH, 0o644);
      } catch (error) {
        fail(error);
        return;
      }
      // The .part is open (and for a fresh start, new and empty): now its version may be recorded.
      target.onStart({ offset: target.from, validator: target.validator });
      file = createWriteStream(target.part, { fd, highWaterMark: 4 << 20 });
      file.on('error', fail);
      for (const chunk of chunks.splice(0)) file.write(chunk);
      body.pipe(file);
    };

    // A resumed body appends to the .part it continues: no point keeping it in memory.
    if (target.from > 0) toFile();
    body.on('data', (chunk: Buffer) => {
      progress.bytes += chunk.length;
      update(chunk);
      if (target.maxBytes !== undefined && progress.bytes > target.maxBytes) {
        fail(new FileTooLargeError(target.maxBytes, target.maxBytes, false));
        return;
      }
      if (file) return;
      chunks.push(chunk);
      buffered += chunk.length;
      if (buffered > MEMORY_BYTES) toFile();
    });
    body.on('error', fail);
    body.on('end', () => {
      if (settled) return;
      clearTimeout(timer);
      const { total } = target;
      if (total !== undefined && progress.bytes !== total) return fail(new BodyLengthError(progress.bytes, total));
      if (file) {
        file.once('close', () => {
          if (settled) return;
          settled = true;
          const written = finish();
          // A .part that does not match its checksum is garbage: nothing to resume from.
          if (written instanceof ChecksumError) clear(target.part);
          if (written instanceof ChecksumError) reject(written);
          else rename(target.part, target.final).then(() => resolve(written), reject);
        });
        return; // pipe() ends the file stream, which then closes
      }
      settled = true;
      const written = finish();
      if (written instanceof ChecksumError) return reject(written);
      target.onStart({ offset: 0, validator: undefined });
      writeWhole(target.part, target.final, chunks).then(() => resolve(written), reject);
    });
  });
}

/**
 * Running cost of a synchronous write + rename here (ns). Samples are clamped, so that one
 * hiccup does not decide the run; past the budget, writes go through the thread pool, with a
 * synchronous one now and then to notice when the disk is fast again.
 */
let syncCostNs = 0;
let asyncWrites = 0;
const PROBE_EVERY = 256;

async function writeWhole(part: string, final: string, chunks: Buffer[]): Promise<void> {
  const data = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  clear(part);
  if (syncCostNs > SYNC_BUDGET_NS && ++asyncWrites % PROBE_EVERY !== 0) {
    await writeFresh(part, data);
    await rename(part, final);
    return;
  }
  const started = process.hrtime.bigint();
  const fd = openSync(part, FRESH, 0o644);
  try {
    for (let at = 0; at < data.length; ) at += writeSync(fd, data, at);
  } finally {
    closeSync(fd);
  }
  renameSync(part, final);
  const cost = Math.min(Number(process.hrtime.bigint() - started), 4 * SYNC_BUDGET_NS);
  syncCostNs = syncCostNs === 0 ? cost : syncCostNs * 0.95 + cost * 0.05;
}

/** Writes `data` to a new file at `path` (see FRESH), through the thread pool. */
async function writeFresh(path: string, data: Buffer): Promise<void> {
  const handle = await open(path, FRESH, 0o644);
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
    clear(target.part);
    await writeFresh(target.part, Buffer.concat(chunks));
    target.onStart({ offset: 0, validator: target.validator });
  } catch {
    // Nothing to resume from then; the next attempt starts from 0.
  }
}
