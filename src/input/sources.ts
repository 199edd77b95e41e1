import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { UsageError } from '../errors/errors.js';
import { readChunks } from '../utils/read-chunks.js';

/** Where input lines come from: a file, or standard input (`-`). */
export interface InputSource {
  /** Name used in `src` and in messages (`urls.txt:12`, `stdin:3`). */
  label: string;
  open(): InputBytes;
  /** Lines arrive as a producer writes them: an entry is complete at the end of each read. */
  live: boolean;
}

/** An input's bytes as they come; a file's chunks reuse two buffers (utils/read-chunks.ts). */
export interface InputBytes {
  chunks: AsyncIterable<Buffer | string>;
  /** Stops waiting for more: a pipe that stays open must not hold up an interrupted run. */
  cut(): void;
}

export function inputSources(inputs: readonly string[], stdin: () => Readable): InputSource[] {
  return inputs.map((input) =>
    input === '-'
      ? { label: 'stdin', open: () => pipeBytes(stdin()), live: true }
      : { label: input, open: () => ({ chunks: readChunks(input, 256 * 1024), cut: () => undefined }), live: false },
  );
}

function pipeBytes(stream: Readable): InputBytes {
  return { chunks: stream, cut: () => void stream.destroy() };
}

/** Fails before anything starts when an input file cannot be read at all. */
export async function checkInputFiles(inputs: readonly string[]): Promise<void> {
  for (const input of inputs) {
    if (input === '-') continue;
    const info = await stat(input).catch(() => undefined);
    if (!info) throw new UsageError(`input file not found: ${input}`);
    if (info.isDirectory()) throw new UsageError(`input is a folder, not a file: ${input}`);
  }
}
