import { stat } from 'node:fs/promises';
import { JoblogError } from '../errors/errors.js';
import { redactUrl } from '../utils/redact-url.js';
import { lockHolder, type Holder } from './lock.js';
import { openForReading, readJobAt, readJoblog, type JoblogState } from './reader.js';

/** Failures that share a code: how many, one message as an example, a few URLs. */
export interface FailureGroup {
  code: string;
  count: number;
  error: string;
  examples: string[];
}

/** Where a run stands, from its joblog alone; `--status --json` prints exactly this. */
export interface StatusReport {
  joblog: string;
  jobs: number;
  done: number;
  failed: number;
  pending: number;
  /**
   * Jobs that had started and had no outcome when the log was last written: under way if a run
   * holds the joblog (`heldBy`), else interrupted (pending, and resumed by the next run).
   */
  running: number;
  /** The dl process that holds the joblog now; null when none does (not even one that was killed). */
  heldBy: Holder | null;
  /** Bytes of the files of done jobs. */
  bytes: number;
  /** Whether the inputs of the last run with inputs were read to their end. */
  resolved: boolean;
  /** When the log was last written (ISO 8601). */
  lastWrite: string;
  badLines: number;
  /** Final failures grouped by code, largest group first. */
  failures: FailureGroup[];
}

const EXAMPLES_PER_GROUP = 3;

/**
 * Reads a joblog without taking its lock, so it works while a run is writing it; a line still
 * being written is simply not counted yet.
 */
export async function status(joblog: string): Promise<StatusReport> {
  // Asked before and after the read: a run that ends (or starts) meanwhile still counts as
  // holding the joblog, so jobs it had under way are not called interrupted.
  const before = await lockHolder(joblog);
  const { state, mtime } = await readForStatus(joblog);
  const heldBy = before ?? (await lockHolder(joblog)) ?? null;
  return {
    joblog,
    jobs: state.jobs,
    done: state.doneCount,
    failed: state.failedCount,
    pending: state.jobs - state.doneCount - state.failedCount,
    running: state.runningCount,
    heldBy,
    bytes: state.bytes,
    resolved: state.resolved,
    lastWrite: mtime.toISOString(),
    badLines: state.badLines,
    failures: await groupFailures(joblog, state),
  };
}

/** URLs of the jobs that failed for good (credentials redacted), in seq order. */
export async function* failedUrls(joblog: string): AsyncGenerator<string> {
  const { state } = await readForStatus(joblog);
  const order = Array.from(state.failures.seqs.keys()).sort((a, b) => state.failures.seqs[a]! - state.failures.seqs[b]!);
  const handle = await openForReading(joblog);
  try {
    for (const i of order) yield redactUrl((await readJobAt(handle, state.failures.offsets[i]!)).url);
  } finally {
    await handle.close();
  }
}

async function readForStatus(joblog: string): Promise<{ state: JoblogState; mtime: Date }> {
  const info = await stat(joblog).catch((error: NodeJS.ErrnoException) => {
    throw new JoblogError(
      error.code === 'ENOENT' ? `no joblog at ${joblog}` : `cannot read the joblog ${joblog}: ${error.message}`,
    );
  });
  if (!info.isFile()) throw new JoblogError(`not a joblog file: ${joblog}`);
  const state = await readJoblog(joblog, { collectFailures: true }).catch((error: Error) => {
    throw new JoblogError(`cannot read the joblog ${joblog}: ${error.message}`);
  });
  return { state, mtime: info.mtime };
}

async function groupFailures(joblog: string, state: JoblogState): Promise<FailureGroup[]> {
  const { seqs, offsets, reason, reasons } = state.failures;
  if (seqs.length === 0) return [];
  const groups = new Map<string, FailureGroup & { offsets: number[] }>();
  for (let i = 0; i < seqs.length; i++) {
    const { code, error } = reasons[reason[i]!]!;
    let group = groups.get(code);
    if (!group) {
      group = { code, count: 0, error, examples: [], offsets: [] };
      groups.set(code, group);
    }
    group.count++;
    if (group.offsets.length < EXAMPLES_PER_GROUP) group.offsets.push(offsets[i]!);
  }
  const handle = await openForReading(joblog);
  try {
    const result: FailureGroup[] = [];
    for (const { offsets: at, ...group } of [...groups.values()].sort((a, b) => b.count - a.count)) {
      for (const offset of at) group.examples.push(redactUrl((await readJobAt(handle, offset)).url));
      result.push(group);
    }
    return result;
  } finally {
    await handle.close();
  }
}
