import { open, type FileHandle } from 'node:fs/promises';
import { encodeInto, encodeRecord, roomFor } from './encode.js';
import type { JoblogRecord } from './records.js';

/** How often buffered records are written and fsynced, and how much may wait in memory. */
const COMMIT_INTERVAL_MS = 200;
const COMMIT_BYTES = 1 << 20;
/** Records are encoded straight into blocks of this size (no string is kept until commit). */
const BLOCK_BYTES = 256 * 1024;
/**
 * Written blocks kept to be filled again. A fresh block per commit and per filled block was
 * garbage held outside V8's heap until a collection: in a run of 100,000 tiny files, 6-9 MB at
 * the peak (docs/architecture.md).
 */
const SPARE_BLOCKS = 8;

export interface WriterOptions {
  /** Called when a write fails after the log was opened (disk full): the run must stop. */
  onError?: (error: Error) => void;
}

/**
 * Appends records to the joblog with group commit: records collect in memory and are written and
 * fsynced together a few times a second and on close, so the log stays cheap at thousands of
 * jobs a second. `append` returns the byte offset where the record's line starts, which is how
 * pending jobs are found again without keeping them in memory.
 */
export class JoblogWriter {
  /** Filled parts of blocks waiting for the next commit, and the block being filled. */
  private blocks: Buffer[] = [];
  private block: Buffer = Buffer.allocUnsafe(BLOCK_BYTES);
  /** Written blocks, to be filled again (see SPARE_BLOCKS). */
  private spare: Buffer[] = [];
  private used = 0;
  private bufferedBytes = 0;
  /** Logical end of the log: bytes on disk plus bytes buffered. */
  private end: number;
  /** Bytes known to be written to the file (not necessarily fsynced). */
  private written: number;
  private inFlight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failure: Error | undefined;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    size: number,
    private readonly options: WriterOptions,
  ) {
    this.end = size;
    this.written = size;
  }

  /** Opens for appending; the caller holds the lock and has repaired any torn tail. */
  static async open(path: string, options: WriterOptions = {}): Promise<JoblogWriter> {
    const handle = await open(path, 'a', 0o600);
    const { size } = await handle.stat();
    return new JoblogWriter(path, handle, size, options);
  }

  get error(): Error | undefined {
    return this.failure;
  }

  append(record: JoblogRecord): number {
    const offset = this.end;
    // After a failed write the run is stopping; buffering more would only grow memory.
    if (this.failure) return offset;
    // The common records go straight into the block (encodeInto); the others as a line of text.
    const room = roomFor(record);
    if (this.block.length - this.used < room) this.nextBlock(room);
    const end = encodeInto(record, this.block, this.used);
    let bytes: number;
    if (end >= 0) bytes = end - this.used;
    else {
      const line = encodeRecord(record);
      // A UTF-16 unit takes at most 3 bytes in UTF-8.
      if (this.block.length - this.used < line.length * 3) this.nextBlock(line.length * 3);
      bytes = this.block.write(line, this.used);
    }
    this.used += bytes;
    this.bufferedBytes += bytes;
    this.end += bytes;
    if (this.bufferedBytes >= COMMIT_BYTES) void this.commit();
    else this.timer ??= setTimeout(() => void this.commit(), COMMIT_INTERVAL_MS);
    return offset;
  }

  /** Resolves once every byte before `offset` is in the file (so it can be read back). */
  async readable(offset: number): Promise<void> {
    while (offset >= this.written && this.hasWork()) await this.commit();
    if (offset >= this.written && this.failure) throw this.failure;
  }

  /** Writes and fsyncs everything appended so far. */
  async flush(): Promise<void> {
    while (this.hasWork()) await this.commit();
    if (this.failure) throw this.failure;
  }

  /** Something is being written, or could still be (nothing can once a write has failed). */
  private hasWork(): boolean {
    return this.inFlight !== undefined || (this.bufferedBytes > 0 && !this.failure);
  }

  /** Moves the filled part of the current block to the commit list and starts a new block. */
  private nextBlock(minBytes = 0): void {
    if (this.used > 0) this.blocks.push(this.block.subarray(0, this.used));
    this.block = (minBytes <= BLOCK_BYTES && this.spare.pop()) || Buffer.allocUnsafe(Math.max(BLOCK_BYTES, minBytes));
    this.used = 0;
  }

  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      await this.handle.close();
    }
  }

  private commit(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.inFlight) return this.inFlight;
    if (this.bufferedBytes === 0 || this.failure) return Promise.resolve();
    this.nextBlock();
    const data = this.blocks;
    const bytes = this.bufferedBytes;
    this.blocks = [];
    this.bufferedBytes = 0;
    this.inFlight = (async () => {
      try {
        await this.handle.writev(data);
        this.written += bytes;
        // Written: their bytes are the file's now, and the blocks (each over a memory of its own,
        // the filled part at its start) can take new records.
        for (const { buffer } of data) if (buffer.byteLength === BLOCK_BYTES && this.spare.length < SPARE_BLOCKS) this.spare.push(Buffer.from(buffer));
        await this.handle.datasync();
      } catch (error) {
        this.failure = error as Error;
        this.options.onError?.(this.failure);
      } finally {
        this.inFlight = undefined;
      }
      // Records appended while this batch was being written start the next batch at once.
      if (this.bufferedBytes > 0 && !this.timer) this.timer = setTimeout(() => void this.commit(), 0);
    })();
    return this.inFlight;
  }
}
