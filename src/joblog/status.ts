import { stat } from 'node:fs/promises';
import { JoblogError } from '../errors/errors.js';
import { readJoblog } from './reader.js';

/** Where a run stands, from its joblog alone; `--status --json` prints exactly this. */
export interface StatusReport {
  joblog: string;
  jobs: number;
  done: number;
  failed: number;
  pending: number;
  /** Bytes of the files of done jobs. */
  bytes: number;
  /** Whether the inputs of the last run with inputs were read to their end. */
  resolved: boolean;
  /** When the log was last written (ISO 8601). */
  lastWrite: string;
  badLines: number;
}

/**
 * Reads a joblog without taking its lock, so it works while a run is writing it; a line still
 * being written is simply not counted yet.
 */
export async function status(joblog: string): Promise<StatusReport> {
  const info = await stat(joblog).catch((error: NodeJS.ErrnoException) => {
    throw new JoblogError(
      error.code === 'ENOENT' ? `no joblog at ${joblog}` : `cannot read the joblog ${joblog}: ${error.message}`,
    );
  });
  if (!info.isFile()) throw new JoblogError(`not a joblog file: ${joblog}`);
  const state = await readJoblog(joblog).catch((error: Error) => {
    throw new JoblogError(`cannot read the joblog ${joblog}: ${error.message}`);
  });
  return {
    joblog,
    jobs: state.jobs,
    done: state.doneCount,
    failed: state.failedCount,
    pending: state.jobs - state.doneCount - state.failedCount,
    bytes: state.bytes,
    resolved: state.resolved,
    lastWrite: info.mtime.toISOString(),
    badLines: state.badLines,
  };
}
