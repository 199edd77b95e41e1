/**
 * Where a connection's reads land, and how body pieces reach their reader without a copy.
 *
 * A connection reads into a slab of SLAB_BYTES. A body piece large enough is handed to the
 * reader as a view of the slab, lent: the next read goes past it, and the slab is used again
 * only once every piece lent from it has been given back (`giveBack`, which the file writer
 * calls once a piece is on disk, and a body that is let go calls at once). A reader that never gives a piece back only keeps the slab
 * from being used again; the garbage collector frees it as usual. Smaller pieces are copied:
 * a reader holding many small views must not keep a slab for each.
 *
 * Why: a big body used to take a fresh buffer per read, which the kernel had to fault in as it
 * copied into it and the garbage collector had to free (docs/architecture.md, "Lent read
 * buffers"). Reused slabs cost neither.
 */

/** A slab: large reads are most of what makes a big body fast (fewer system calls, fewer wakeups). */
const SLAB_BYTES = 1 << 20;
/** A read gets at least this much room; a slab with less left is left for a fresh one. */
const MIN_ROOM = 128 * 1024;
/** Pieces smaller than this are copied out rather than lent. */
const LEND_FROM = 16 * 1024;
/**
 * Free slabs kept for the next reads (64 MiB); beyond these, given-back slabs are left to the
 * collector. Four big bodies keep about 50 slabs lent at once (each file's write queue holds up
 * to 8 MiB while a write of as much is under way): with only 16 kept, most came back to a full
 * list and new ones were made (200 slabs for 4 x 256 MiB, against 53).
 */
const KEEP_FREE = 64;

interface Slab {
  readonly bytes: Buffer;
  /** Pieces lent out and not yet given back. */
  lent: number;
  /** A connection still reads into it. */
  inUse: boolean;
}

const free: Slab[] = [];
/** Connections open: once none is (a run has ended), free slabs are let go. */
let reading = 0;
const slabs = new WeakMap<ArrayBufferLike, Slab>();
/** Each lent piece, given back at most once. */
const lentPieces = new WeakSet<Buffer>();

function takeSlab(): Slab {
  const slab = free.pop() ?? newSlab();
  slab.inUse = true;
  return slab;
}

function newSlab(): Slab {
  const slab: Slab = { bytes: Buffer.allocUnsafeSlow(SLAB_BYTES), lent: 0, inUse: true };
  slabs.set(slab.bytes.buffer, slab);
  return slab;
}

function recycleIfDone(slab: Slab): void {
  if (slab.lent === 0 && !slab.inUse && reading > 0 && free.length < KEEP_FREE) free.push(slab);
}

/**
 * Gives back a piece lent by a connection (`ReadBuffer.lend`) once nothing reads it any more.
 * Anything else, and a piece given back before, is ignored.
 */
export function giveBack(piece: Buffer): void {
  if (!lentPieces.delete(piece)) return;
  const slab = slabs.get(piece.buffer)!;
  slab.lent--;
  recycleIfDone(slab);
}

/** One connection's read buffer. */
export class ReadBuffer {
  #slab = takeSlab();
  /** Where the next read goes: past the last piece lent from this slab. */
  #at = 0;
  #room: Buffer = this.#slab.bytes;

  constructor() {
    reading++;
  }

  /** Room for the next read. */
  room(): Buffer {
    const slab = this.#slab;
    let at = this.#at;
    if (slab.lent === 0) at = 0; // everything lent came back: start over
    else if (SLAB_BYTES - at < MIN_ROOM) {
      slab.inUse = false;
      this.#slab = takeSlab();
      at = 0;
    }
    if (at !== this.#room.byteOffset || this.#slab !== slab) this.#room = this.#slab.bytes.subarray(at);
    this.#at = at;
    return this.#room;
  }

  /** A piece of the last read for a reader: lent (a view) if large enough, else a copy. */
  lend(piece: Buffer): Buffer {
    const slab = this.#slab;
    // A piece from anywhere but this slab's last read would be counted against the wrong memory.
    if (piece.length < LEND_FROM || piece.buffer !== slab.bytes.buffer) return Buffer.from(piece);
    slab.lent++;
    lentPieces.add(piece);
    this.#at = piece.byteOffset + piece.length;
    return piece;
  }

  /** The connection is gone: its slab is free once its lent pieces come back. */
  close(): void {
    this.#slab.inUse = false;
    if (--reading === 0) free.length = 0;
    else recycleIfDone(this.#slab);
  }
}
