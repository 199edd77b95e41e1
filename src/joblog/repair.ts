import { open } from 'node:fs/promises';

const NEWLINE = 0x0a;

/**
 * A log whose last byte is not `\n` ends in a torn write (the process died mid-append).
 * Truncates back to just after the last `\n` and returns how many bytes were dropped.
 */
export async function repairTornTail(path: string): Promise<number> {
  const handle = await open(path, 'r+').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (!handle) return 0;
  try {
    const { size } = await handle.stat();
    if (size === 0) return 0;
    const keep = await endOfLastLine(handle, size);
    if (keep === size) return 0;
    await handle.truncate(keep);
    await handle.datasync();
    return size - keep;
  } finally {
    await handle.close();
  }
}

/** Offset just past the last `\n` at or before `size` (0 when there is none). */
async function endOfLastLine(handle: import('node:fs/promises').FileHandle, size: number): Promise<number> {
  const block = Buffer.allocUnsafe(64 * 1024);
  let end = size;
  while (end > 0) {
    const start = Math.max(0, end - block.length);
    const { bytesRead } = await handle.read(block, 0, end - start, start);
    const last = block.subarray(0, bytesRead).lastIndexOf(NEWLINE);
    if (last !== -1) return start + last + 1;
    end = start;
  }
  return 0;
}
