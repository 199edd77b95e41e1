import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readLineBatches, type Line } from '../../src/input/lines.js';

async function collect(chunks: Array<Buffer | string>): Promise<Line[]> {
  const out: Line[] = [];
  for await (const { lines } of readLineBatches(Readable.from(chunks))) out.push(...lines);
  return out;
}

const b = (s: string): Buffer => Buffer.from(s, 'utf8');

describe('readLineBatches', () => {
  it('yields each line with its 1-based number', async () => {
    expect(await collect([b('one\ntwo\nthree\n')])).toEqual([
      { text: 'one', line: 1 },
      { text: 'two', line: 2 },
      { text: 'three', line: 3 },
    ]);
  });

  it('counts empty lines', async () => {
    expect(await collect([b('a\n\n\nb\n')])).toEqual([
      { text: 'a', line: 1 },
      { text: '', line: 2 },
      { text: '', line: 3 },
      { text: 'b', line: 4 },
    ]);
  });

  it('drops the \\r of CRLF line ends, and only that', async () => {
    expect(await collect([b('a\r\nb\r\nc\rd\n')])).toEqual([
      { text: 'a', line: 1 },
      { text: 'b', line: 2 },
      { text: 'c\rd', line: 3 },
    ]);
  });

  it('drops a CRLF split across chunks', async () => {
    expect(await collect([b('a\r'), b('\nb\r'), b('\n')])).toEqual([
      { text: 'a', line: 1 },
      { text: 'b', line: 2 },
    ]);
  });

  it('drops a UTF-8 BOM at the start of the stream', async () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    expect(await collect([Buffer.concat([bom, b('http://a/\nhttp://b/\n')])])).toEqual([
      { text: 'http://a/', line: 1 },
      { text: 'http://b/', line: 2 },
    ]);
  });

  it('drops a BOM split across chunks, and a BOM on a CRLF first line', async () => {
    expect(await collect([Buffer.from([0xef]), Buffer.from([0xbb]), Buffer.from([0xbf]), b('x\r\n')])).toEqual([
      { text: 'x', line: 1 },
    ]);
  });

  it('keeps a BOM-like sequence that is not at the start of the stream', async () => {
    const lines = await collect([b('a\n\ufeffb\n')]);
    expect(lines[1]).toEqual({ text: '\ufeffb', line: 2 });
  });

  it('yields the last line without a final newline', async () => {
    expect(await collect([b('a\nlast')])).toEqual([
      { text: 'a', line: 1 },
      { text: 'last', line: 2 },
    ]);
    expect(await collect([b('only\r')])).toEqual([{ text: 'only', line: 1 }]);
  });

  it('yields nothing for an empty stream and no extra line after a final newline', async () => {
    expect(await collect([])).toEqual([]);
    expect(await collect([b('')])).toEqual([]);
    expect(await collect([b('a\n')])).toEqual([{ text: 'a', line: 1 }]);
  });

  it('joins a line split across many chunks', async () => {
    expect(await collect([b('http://exa'), b('mple.com/'), b('a.jpg\nhttp'), b('://b/\n')])).toEqual([
      { text: 'http://example.com/a.jpg', line: 1 },
      { text: 'http://b/', line: 2 },
    ]);
  });

  it('decodes a multibyte character split across chunks', async () => {
    const bytes = b('caf\u00e9 \u20ac \ud83d\ude00\nnext\n');
    // Cut every byte into its own chunk: every multibyte character is split.
    const chunks = [...bytes].map((byte) => Buffer.from([byte]));
    expect(await collect(chunks)).toEqual([
      { text: 'caf\u00e9 \u20ac \ud83d\ude00', line: 1 },
      { text: 'next', line: 2 },
    ]);
    // And a cut in the middle of the 4-byte emoji of the last line without a newline.
    const last = b('x\n\ud83d\ude00');
    expect(await collect([last.subarray(0, 4), last.subarray(4)])).toEqual([
      { text: 'x', line: 1 },
      { text: '\ud83d\ude00', line: 2 },
    ]);
  });

  it('accepts string chunks', async () => {
    expect(await collect(['a\nb', 'c\n'])).toEqual([
      { text: 'a', line: 1 },
      { text: 'bc', line: 2 },
    ]);
  });

  it('yields lines before the stream ends', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    async function* source(): AsyncGenerator<Buffer> {
      yield b('first\nsec');
      await gate;
      yield b('ond\n');
    }
    const batches = readLineBatches(Readable.from(source()));
    const first = await batches.next();
    expect(first.value).toEqual({ lines: [{ text: 'first', line: 1 }], chunkEnd: true });
    release();
    expect((await batches.next()).value).toEqual({ lines: [{ text: 'second', line: 2 }], chunkEnd: true });
    expect((await batches.next()).done).toBe(true);
  });

  it('hands a chunk out in batches of at most batchLines, decoding each batch only when it is asked for', async () => {
    // A joined line first (begun in the chunk before), then seven lines of the second chunk.
    const chunks = [b('zero\nhttp://a/'), b('0\nu1\nu2\nu3\nu4\nu5\nu6\nu7\n')];
    const batches = readLineBatches(Readable.from(chunks), 3);
    const seen: Array<{ texts: string[]; chunkEnd: boolean }> = [];
    for await (const { lines, chunkEnd } of batches) seen.push({ texts: lines.map((l) => `${l.line}:${l.text}`), chunkEnd });
    expect(seen).toEqual([
      { texts: ['1:zero'], chunkEnd: true },
      { texts: ['2:http://a/0', '3:u1', '4:u2'], chunkEnd: false },
      { texts: ['5:u3', '6:u4', '7:u5'], chunkEnd: false },
      { texts: ['8:u6', '9:u7'], chunkEnd: true },
    ]);
  });

  it('decodes a batch from the chunk as it is when the batch is asked for', async () => {
    // A reader that reuses its buffer would overwrite lines decoded late; this one changes the
    // chunk after the first batch is out, and the second batch must show the change, which
    // proves lines are not decoded ahead of their batch.
    const chunk = b('a1\na2\na3\na4\n');
    const batches = readLineBatches(Readable.from([chunk]), 2);
    expect((await batches.next()).value).toEqual({ lines: [{ text: 'a1', line: 1 }, { text: 'a2', line: 2 }], chunkEnd: false });
    chunk.write('b', 6);
    expect((await batches.next()).value).toEqual({ lines: [{ text: 'b3', line: 3 }, { text: 'a4', line: 4 }], chunkEnd: true });
  });
});
