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

/**
 * Fails before anything starts when an input file cannot be read at all, or is the joblog itself
 * (`dl -l urls.txt urls.txt`), which the run would append to and would have "repaired".
 */
export async function checkInputFiles(inputs: readonly string[], joblog: string): Promise<void> {
  const log = await stat(joblog).catch(() => undefined);
  for (const input of inputs) {
    if (input === '-') continue;
    const info = await stat(input).catch(() => undefined);
    if (!info) throw new UsageError(`input file not found: ${input}${LOOKS_LIKE_URL.test(input) ? ' (to fetch one URL, pipe it in: echo URL | dl -)' : ''}`);
    if (info.isDirectory()) throw new UsageError(`input is a folder, not a file: ${input}`);
    if (log && info.dev === log.dev && info.ino === log.ino) throw new UsageError(`the input file ${input} is also the joblog (--joblog ${joblog})`);
  }
}

/** An argument that is a URL, not a file name: dl reads URLs from files and pipes only. */
const LOOKS_LIKE_URL = /^[a-z][a-z0-9+.-]*:\/\//i;
