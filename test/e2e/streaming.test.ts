import { execFileSync } from 'node:child_process';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRecords, spawnCli, withTempDir } from '../helpers/cli.js';
import { contentFor, contentHandler, useServer } from '../helpers/server.js';

describe('URLs streamed on stdin', () => {
  const server = useServer(contentHandler());

  it('completes the first file while the producer is still writing', async () => {
    await withTempDir(async (dir) => {
      const joblog = join(dir, 'run.jsonl');
      const cli = spawnCli(['--joblog', joblog, '-d', 'out', '-'], { cwd: dir, stdin: 'pipe' });
      const first = join(dir, 'out', 'stream-0.bin');
      const expected = contentFor('/stream-0.bin');
      const isComplete = async () => (await readFile(first).catch(() => Buffer.alloc(0))).equals(expected);

      // A scraper that finds a URL every 200 ms and keeps stdin open in between.
      const total = 25;
      let writtenWhenFirstComplete: number | undefined;
      for (let i = 0; i < total; i++) {
        if (writtenWhenFirstComplete === undefined && (await isComplete())) writtenWhenFirstComplete = i;
        cli.child.stdin!.write(`${server.url(`/stream-${i}.bin`)}\n`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(writtenWhenFirstComplete, 'first file complete before the last URL was written').toBeDefined();
      expect(writtenWhenFirstComplete!).toBeLessThan(total);

      cli.child.stdin!.end();
      const result = await cli.exited;
      expect(result.code).toBe(0);
      for (let i = 0; i < total; i++) {
        expect((await readFile(join(dir, 'out', `stream-${i}.bin`))).equals(contentFor(`/stream-${i}.bin`))).toBe(true);
      }
      const records = await readRecords(joblog);
      expect(records.filter((r) => r.t === 'job').map((r) => r.src)).toEqual(
        Array.from({ length: total }, (_, i) => `stdin:${i + 1}`),
      );
      expect(records.at(-1)).toMatchObject({ t: 'eof', jobs: total });
    });
  });
});

describe('URLs from a named pipe given as an input file', () => {
  const server = useServer(contentHandler());

  it('reads the pipe as it is written, and finishes when the writer closes it', async () => {
    await withTempDir(async (dir) => {
      const fifo = join(dir, 'urls.fifo');
      execFileSync('mkfifo', [fifo]);
      const cli = spawnCli(['--joblog', 'run.jsonl', '-d', 'out', 'urls.fifo'], { cwd: dir });
      // Opening a pipe for writing waits for its reader: dl has opened it once this returns.
      const writer = await open(fifo, 'w');
      for (let i = 0; i < 3; i++) await writer.write(`${server.url(`/fifo-${i}.bin`)}\n`);
      await writer.close();
      const result = await cli.exited;
      expect(result.stderr).not.toContain('cannot read');
      expect(result.code).toBe(0);
      for (let i = 0; i < 3; i++) expect((await readFile(join(dir, 'out', `fifo-${i}.bin`))).equals(contentFor(`/fifo-${i}.bin`))).toBe(true);
    });
  });
});
