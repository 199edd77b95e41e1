import { open } from 'node:fs/promises';

/**
 * A file's bytes (up to `end`, exclusive) in chunks read into two buffers in turn: the next
 * chunk is read while the caller works on this one, and a chunk is valid only until the next
 * one is asked for, so whoever keeps bytes must copy them. Reads go on from where the last one
 * ended (one at a time, in order), so a named pipe or `<(command)` reads as a file does. A fresh
 * buffer per chunk, as a read stream allocates, is memory outside V8's heap that V8 frees only
 * at its next full collection, which a small heap puts off until some 64 MB of dead chunks have
 * piled up; with a 10M-job log read next to its hash tables, that was 40 MB of the run's peak RSS.
 */
export async function* readChunks(path: string, bufferSize: number, end = Infinity): AsyncGenerator<Buffer, void, undefined> {
  const handle = await open(path, 'r');
  const buffers = [Buffer.allocUnsafeSlow(bufferSize), Buffer.allocUnsafeSlow(bufferSize)];
  let turn = 0;
  /** The next chunk, `done` bytes in: read from the handle's own position (null), never past `end`. */
  const readNext = (done: number): Promise<{ bytesRead: number }> =>
    done < end ? handle.read(buffers[turn]!, 0, Math.min(bufferSize, end - done), null) : Promise.resolve({ bytesRead: 0 });
  // Each read is awaited in turn; until then a failed one must not count as unhandled, since the
  // caller may be busy with the previous chunk for a while.
  const settled = <T>(promise: Promise<T>): Promise<T> => {
    promise.catch(() => undefined);
    return promise;
  };
  let reading = settled(readNext(0));
  try {
    for (let done = 0; ; ) {
      const { bytesRead } = await reading;
      if (bytesRead === 0) return;
      const chunk = buffers[turn]!.subarray(0, bytesRead);
      done += bytesRead;
      turn ^= 1;
      reading = settled(readNext(done));
      yield chunk;
    }
  } finally {
    await reading.catch(() => undefined); // a read still under way must not land in a closed file
    // Not awaited: nothing was written through it, and the caller need not wait a trip to the
    // thread pool for it (the last entry of an input file starts only once its file is done).
    handle.close().catch(() => undefined);
  }
}
