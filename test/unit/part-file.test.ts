import { constants, fstatSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PartFile } from '../../src/fs/part-file.js';
import { withTempDir } from '../helpers/cli.js';

const MiB = 1 << 20;

/** A Flow that records the calls PartFile makes on it. */
function recordingFlow(): { calls: string[]; pause(): void; resume(): void } {
  const calls: string[] = [];
  return { calls, pause: () => void calls.push('pause'), resume: () => void calls.push('resume') };
}

/** Whether `fd` no longer refers to the file at `path` (closed, or reused for another file). */
function isClosed(fd: number, path: string): boolean {
  try {
    return fstatSync(fd).ino !== statSync(path).ino;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EBADF';
  }
}

describe('PartFile', () => {
  it('closes once when close is called twice, during a write and after it', () =>
    withTempDir(async (dir) => {
      const path = join(dir, 'twice.part');
      const fd = openSync(path, 'w');
      const file = new PartFile(fd, recordingFlow(), () => undefined);
      file.write(Buffer.alloc(4 * MiB, 7));
      const both = [file.close(), file.close()];
      await Promise.all(both);
      await file.close();
      expect(statSync(path).size).toBe(4 * MiB);
      expect(isClosed(fd, path)).toBe(true);
    }));

  it('appends every chunk in order, also those queued during a write, then closes the fd', () =>
    withTempDir(async (dir) => {
      const path = join(dir, 'a.part');
      writeFileSync(path, 'old:');
      const fd = openSync(path, 'a');
      const flow = recordingFlow();
      const errors: unknown[] = [];
      const file = new PartFile(fd, flow, (error) => errors.push(error));
      // 3000 pieces at once: more than one writev may take (IOV_MAX is 1024 on Linux).
      const chunks = Array.from({ length: 3000 }, (_, i) => Buffer.alloc((i % 251) + 1, i % 256));
      for (const chunk of chunks.slice(0, 2000)) file.write(chunk);
      await new Promise<void>((resolve) => setImmediate(resolve));
      for (const chunk of chunks.slice(2000)) file.write(chunk);
      await file.close();
      expect(readFileSync(path).equals(Buffer.concat([Buffer.from('old:'), ...chunks]))).toBe(true);
      expect(isClosed(fd, path)).toBe(true);
      expect(errors).toEqual([]);
      expect(flow.calls).toEqual([]);
    }));

  it('pauses the flow once more than 8 MiB wait, and resumes it when they are written', () =>
    withTempDir(async (dir) => {
      const path = join(dir, 'big.part');
      const fd = openSync(path, 'w');
      const flow = recordingFlow();
      const file = new PartFile(fd, flow, () => undefined);
      const chunks = [1, ...Array<number>(7).fill(MiB), 2 * MiB, MiB].map((size, i) => Buffer.alloc(size, i));
      file.write(chunks[0]!); // goes out at once: what follows waits for it
      for (const chunk of chunks.slice(1, 8)) file.write(chunk);
      expect(flow.calls).toEqual([]); // 7 MiB waiting
      file.write(chunks[8]!);
      expect(flow.calls).toEqual(['pause']); // 9 MiB waiting
      file.write(chunks[9]!);
      expect(flow.calls).toEqual(['pause']); // paused once
      await file.close();
      expect(flow.calls).toEqual(['pause', 'resume']);
      expect(readFileSync(path).equals(Buffer.concat(chunks))).toBe(true);
    }));

  it('reports a write error once, drops later writes, and close() rejects with it', () =>
    withTempDir(async (dir) => {
      const path = join(dir, 'readonly.part');
      writeFileSync(path, 'keep');
      const fd = openSync(path, constants.O_RDONLY); // writing to it fails with EBADF
      const errors: unknown[] = [];
      let failed!: () => void;
      const failure = new Promise<void>((resolve) => (failed = resolve));
      const file = new PartFile(fd, recordingFlow(), (error) => {
        errors.push(error);
        failed();
      });
      file.write(Buffer.from('a'));
      file.write(Buffer.from('b')); // queued behind the failing write
      await failure;
      file.write(Buffer.from('c')); // after the error: dropped, not tried again
      const closing = file.close();
      await expect(closing).rejects.toMatchObject({ code: 'EBADF' });
      await expect(closing).rejects.toBe(errors[0]);
      expect(errors).toHaveLength(1);
      expect(readFileSync(path, 'utf8')).toBe('keep');
      expect(isClosed(fd, path)).toBe(true);
    }));
});
