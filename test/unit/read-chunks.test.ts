import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
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
      for await (const { lines: batch } of readLineBatches(readChunks(path, 7))) read.push(...batch.map((l) => l.text));
      expect(read).toEqual(lines);
    });
  });

  // Descriptors are counted in /proc.
  it.skipIf(process.platform !== 'linux')('closes the file once read to its end, or left early', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'f.txt');
      await writeFile(path, 'abcdefghijklmnopqrstuvwxyz');
      // In a process of its own: in this one, a collection could close a forgotten handle first.
      const script = `
        import { readdirSync, readlinkSync } from 'node:fs';
        import { setTimeout } from 'node:timers/promises';
        const { readChunks } = await import(${JSON.stringify(pathToFileURL(resolve('dist/utils/read-chunks.js')).href)});
        const open = () => readdirSync('/proc/self/fd').filter((fd) => { try { return readlinkSync('/proc/self/fd/' + fd) === ${JSON.stringify(path)}; } catch { return false; } }).length;
        for await (const chunk of readChunks(${JSON.stringify(path)}, 8)) if (chunk.length === 0) process.exit(3);
        for await (const chunk of readChunks(${JSON.stringify(path)}, 8)) if (chunk.length > 0) break;
        for (let tries = 0; open() > 0; tries++) if (tries === 500) process.exit(2); else await setTimeout(10);`;
      const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
      expect(child.stderr).toBe('');
      expect(child.status).toBe(0);
    });
  });
});
