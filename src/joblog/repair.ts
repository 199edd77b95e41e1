import { open, type FileHandle } from 'node:fs/promises';
import { JoblogError } from '../errors/errors.js';

const NEWLINE = 0x0a;
/** How every joblog record begins: `t` is its first field (docs/joblog.md). */
const RECORD_START = Buffer.from('{"t":"');

/**
 * A log whose last byte is not `\n` ends in a torn write (the process died mid-append).
 * Truncates back to just after the last `\n` and returns how many bytes were dropped. A file that
 * does not begin as a joblog does (a URL list or a document given to --joblog by mistake) is
 * neither cut nor appended to: JoblogError.
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
    await checkBeginning(handle, path);
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
async function endOfLastLine(handle: FileHandle, size: number): Promise<number> {
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

/**
 * Throws unless the file begins as a joblog record does. Only as many bytes as it has are
 * compared: a log torn within its first record (a run died as it began) is still one.
 */
async function checkBeginning(handle: FileHandle, path: string): Promise<void> {
  const head = Buffer.alloc(RECORD_START.length);
  const { bytesRead } = await handle.read(head, 0, head.length, 0);
  if (head.subarray(0, bytesRead).equals(RECORD_START.subarray(0, bytesRead))) return;
  throw new JoblogError(`${path} is not a joblog (its first line is not a joblog record); it was left as it is`);
}
