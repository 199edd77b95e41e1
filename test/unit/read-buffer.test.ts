import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { giveBack, ReadBuffer } from '../../src/http/h1/read-buffer.js';
import { run } from '../../src/index.js';
import { withTempDir } from '../helpers/cli.js';
import { useServer } from '../helpers/server.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** What a read of `bytes` into `room` would hand over: the first `bytes` of it, filled with `fill`. */
function readInto(room: Buffer, bytes: number, fill: number): Buffer {
  return room.subarray(0, bytes).fill(fill);
}

/** Whether two views share any byte of memory. */
function overlap(a: Buffer, b: Buffer): boolean {
  if (a.buffer !== b.buffer) return false;
  return a.byteOffset < b.byteOffset + b.length && b.byteOffset < a.byteOffset + a.length;
}

describe('ReadBuffer', () => {
  it('copies a small piece and reads the next one into the same room', () => {
    const reads = new ReadBuffer();
    const room = reads.room();
    expect(room.length).toBe(MiB);
    const piece = reads.lend(readInto(room, 4 * KiB, 1));
    expect(piece.buffer).not.toBe(room.buffer);
    expect(reads.room().byteOffset).toBe(room.byteOffset);
    readInto(reads.room(), 4 * KiB, 2);
    expect(piece.every((byte) => byte === 1)).toBe(true);
    reads.close();
  });

  it('lends a large piece as a view, and reads past it until it is given back', () => {
    const reads = new ReadBuffer();
    const first = reads.lend(readInto(reads.room(), 200 * KiB, 1));
    const room = reads.room();
    expect(first.buffer).toBe(room.buffer);
    expect(overlap(first, room)).toBe(false);
    const second = reads.lend(readInto(room, 300 * KiB, 2));
    expect(overlap(second, reads.room())).toBe(false);
    expect(first.every((byte) => byte === 1)).toBe(true);
    giveBack(first);
    // One piece is still out: the slab is not started over.
    expect(overlap(second, reads.room())).toBe(false);
    giveBack(second);
    expect(reads.room().byteOffset).toBe(first.byteOffset);
    reads.close();
  });

  it('ignores a piece given back twice, and pieces it never lent', () => {
    const reads = new ReadBuffer();
    const first = reads.lend(readInto(reads.room(), 100 * KiB, 1));
    const second = reads.lend(readInto(reads.room(), 100 * KiB, 2));
    giveBack(first);
    giveBack(first);
    // Counted as one: the second piece is still lent, and no read may land on it.
    expect(overlap(second, reads.room())).toBe(false);
    giveBack(second.subarray(0));
    giveBack(Buffer.alloc(64 * KiB));
    expect(overlap(second, reads.room())).toBe(false);
    reads.close();
  });

  it('moves to another slab when the room left is small, and another connection reuses the old one once given back', () => {
    const reads = new ReadBuffer();
    const pieces: Buffer[] = [];
    do pieces.push(reads.lend(readInto(reads.room(), 200 * KiB, pieces.length)));
    while (reads.room().buffer === pieces[0]!.buffer && pieces.length < 10);
    expect(pieces.length).toBe(5); // 1 MiB holds five reads of 200 KiB with at least 128 KiB of room each
    pieces.forEach((piece, i) => expect(piece.every((byte) => byte === i)).toBe(true));
    const full = pieces[0]!.buffer;
    const other = new ReadBuffer();
    expect(other.room().buffer).not.toBe(full); // not while its pieces are out
    other.close();
    pieces.forEach(giveBack);
    const third = new ReadBuffer();
    expect(third.room().buffer).toBe(full);
    third.close();
    reads.close();
  });

  it('keeps a closed connection’s slab from reuse until its lent pieces come back', () => {
    const other = new ReadBuffer(); // another connection of the run, open throughout
    const reads = new ReadBuffer();
    const room = reads.room();
    const piece = reads.lend(readInto(room, 300 * KiB, 9));
    reads.close();
    const next = new ReadBuffer();
    expect(next.room().buffer).not.toBe(room.buffer);
    next.close();
    giveBack(piece);
    const after = new ReadBuffer();
    expect(after.room().buffer).toBe(room.buffer);
    after.close();
    other.close();
  });

  it('lets free slabs go once no connection is open, and keeps none given back after', () => {
    const reads = new ReadBuffer();
    const kept = reads.lend(readInto(reads.room(), 300 * KiB, 1));
    const freed = new ReadBuffer();
    const freedSlab = freed.room().buffer;
    freed.close(); // free, and kept while `reads` is open
    reads.close(); // the last one: the free list is let go
    giveBack(kept); // back after the end: not kept either
    const next = new ReadBuffer();
    expect([freedSlab, kept.buffer]).not.toContain(next.room().buffer);
    next.close();
  });
});

describe('lent read buffers end to end', () => {
  const bodies = new Map<string, Buffer>();
  const server = useServer((req, res) => {
    const body = bodies.get(req.url ?? '');
    if (!body) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-length': body.length });
    // In pieces, so that reads come in all sizes and slabs turn over many times.
    let at = 0;
    const next = (): void => {
      while (at < body.length) {
        const size = Math.min(body.length - at, 1 + ((at * 7919) % (700 * KiB)));
        const more = res.write(body.subarray(at, (at += size)));
        if (!more) return void res.once('drain', next);
      }
      res.end();
    };
    next();
  });

  it('writes every byte of several big bodies at once, though their slabs are reused while others are still being written', () =>
    withTempDir(async (dir) => {
      for (let i = 0; i < 4; i++) bodies.set(`/big-${i}.bin`, randomBytes(24 * MiB));
      await writeFile(join(dir, 'urls.txt'), [...bodies.keys()].map((path) => server.url(path)).join('\n'));
      const summary = await run({ inputs: [join(dir, 'urls.txt')], joblog: join(dir, 'run.jsonl'), destdir: join(dir, 'out'), perHost: 4 });
      expect(summary).toMatchObject({ done: 4, failed: 0 });
      for (const [path, body] of bodies) expect((await readFile(join(dir, 'out', path.slice(1)))).equals(body)).toBe(true);
    }));
});
