import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readLineBatches } from '../../src/input/lines.js';
import { readChunks } from '../../src/utils/read-chunks.js';
import { withTempDir } from '../helpers/cli.js';

describe('readChunks', () => {
  it('reads a file through two reused buffers, up to an end offset', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'f.txt');
      await writeFile(path, 'abcdefghijklmnopqrstuvwxyz');
      const seen: string[] = [];
      const buffers = new Set<ArrayBufferLike>();
      for await (const chunk of readChunks(path, 8)) {
        seen.push(chunk.toString());
        buffers.add(chunk.buffer);
      }
      expect(seen).toEqual(['abcdefgh', 'ijklmnop', 'qrstuvwx', 'yz']);
      expect(buffers.size).toBe(2); // two buffers in turn, whatever the number of chunks
      const upTo: string[] = [];
      for await (const chunk of readChunks(path, 8, 11)) upTo.push(chunk.toString());
      expect(upTo).toEqual(['abcdefgh', 'ijk']);
    });
  });

  it('gives lines split across chunks whole, though the next chunk overwrites the buffer', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'urls.txt');
      const lines = Array.from({ length: 50 }, (_, i) => `https://example.com/${'x'.repeat(i % 13)}/${i}.bin`);
      await writeFile(path, `${lines.join('\n')}\n`);
      const read: string[] = [];
      for await (const batch of readLineBatches(readChunks(path, 7))) read.push(...batch.map((l) => l.text));
      expect(read).toEqual(lines);
    });
  });
});
