import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { CommanderError } from 'commander';
import { DlError, JoblogError, JoblogLockedError, LocalError, UsageError } from '../errors/errors.js';
import { defaultJoblog } from '../options.js';
import { failedUrls, status } from '../joblog/status.js';
import type { ActiveTransfers } from '../engine/job-runner.js';
import { renderStatus } from '../report/status-text.js';
import { SlotArray } from '../utils/slot-array.js';
import { EXIT, exitCodeFor, exitMeaning } from './exit-codes.js';
import { createReporter, stderrLines } from './reporting.js';
import { buildProgram, type CliOptions } from './program.js';

/** A joblog this big (some 200,000 jobs) takes JavaScript a good part of a second to read. */
const BIG_JOBLOG_BYTES = 64 << 20;
/** After Ctrl+C or SIGTERM, the process exits within this long whatever is still closing. */
const SHUTDOWN_GRACE_MS = 1500;

function reportRejection(reason: unknown): void {
  process.stderr.write(`dl: internal error: ${reason instanceof Error ? reason.message : String(reason)}\n`);
  process.exitCode = EXIT.failed;
}

/** What the process that runs main() may be told. */
export interface MainHooks {
  /**
   * The run is bound by JavaScript from its start (`--status`, `--dry-run`, a run that first
   * reads a big joblog): V8 should optimise as it does by default, not after the first second
   * (bin/dl.cjs, src/cli/optimise-later.ts).
   */
  optimiseNow?(): void;
}

/** Runs the dl command line and returns the exit code; never throws for a person's mistake. */
export async function main(argv: readonly string[], hooks: MainHooks = {}): Promise<number> {
  // A promise nobody awaited must not print a stack trace at a user; say it in one line. Once per
  // process: a caller that runs main() again must not pile up listeners.
  if (!process.listeners('unhandledRejection').includes(reportRejection)) process.on('unhandledRejection', reportRejection);
  const program = buildProgram();
  try {
    program.parse([...argv]);
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    throw error;
  }
  const options = program.opts<CliOptions>();
  const inputs = program.args.length > 0 ? program.args : process.stdin.isTTY ? [] : ['-'];
  // Reading a joblog or resolving a list downloads nothing: its time is all JavaScript's. So is
  // the start of a run that first reads a big joblog (a resumed million jobs: half a second).
  if (options.status || options.dryRun || (await sizeOf(joblogOf(options))) > BIG_JOBLOG_BYTES) hooks.optimiseNow?.();

  try {
    if (options.status) return await printStatus(options);
    return await download(inputs, options);
  } catch (error) {
    if (error instanceof DlError) {
      stderrLines(`dl: ${error.message}`);
      return error instanceof UsageError || error instanceof JoblogLockedError || error instanceof JoblogError || error instanceof LocalError
        ? EXIT.usage
        : EXIT.failed;
    }
    stderrLines(`dl: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return EXIT.failed;
  }
}

/** The joblog the options name, or the destination folder's. */
const joblogOf = (options: CliOptions): string => resolve(options.joblog ?? defaultJoblog(resolve(options.destdir)));

/** A file's size; 0 when it is not there (yet). */
const sizeOf = (path: string): Promise<number> => stat(path).then((info) => info.size, () => 0);

async function printStatus(options: CliOptions): Promise<number> {
  const joblog = joblogOf(options);
  if (options.failed) {
    for await (const url of failedUrls(joblog)) process.stdout.write(`${url}\n`);
    return EXIT.ok;
  }
  const report = await status(joblog);
  process.stdout.write(options.json ? `${JSON.stringify(report)}\n` : `${renderStatus(report)}\n`);
  return EXIT.ok;
}

async function download(inputs: string[], options: CliOptions): Promise<number> {
  const controller = new AbortController();
  let interruptedBy: 'SIGINT' | 'SIGTERM' | undefined;
  const onSignal = (signal: 'SIGINT' | 'SIGTERM') => () => {
    // A second Ctrl+C means "now": the joblog has at most a few hundred ms of records unwritten.
    if (interruptedBy === 'SIGINT' && signal === 'SIGINT') process.exit(EXIT.sigint);
    if (interruptedBy) return;
    interruptedBy = signal;
    controller.abort();
    // The run normally winds down in milliseconds; never let a stuck close hold the user up.
    const code = signal === 'SIGTERM' ? EXIT.sigterm : EXIT.sigint;
    setTimeout(() => process.exit(code), SHUTDOWN_GRACE_MS).unref();
  };
  const onSigint = onSignal('SIGINT');
  const onSigterm = onSignal('SIGTERM');
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  const active: ActiveTransfers = new SlotArray();
  // Loaded here, not at the top: --status, --help and --version need none of the HTTP stack.
  const { run } = await import('../run.js');
  const reporter = await createReporter(
    { progress: options.progress, quiet: options.quiet === true, json: options.json === true, workers: options.workers },
    active,
  );
  // Whatever ends the process, the terminal gets its cursor back.
  const restore = (): void => reporter.close();
  process.on('exit', restore);
  try {
    const summary = await run({
      inputs,
      joblog: options.joblog,
      destdir: options.destdir,
      workers: options.workers,
      perHost: options.perHost,
      perSite: options.perSite,
      hostLimits: options.hostLimit,
      siteLimits: options.siteLimit,
      retries: options.batchRetries ?? options.retries,
      retryWaitMs: options.retryWait,
      retryMaxWaitMs: options.retryMaxWait,
      maxRetryAfterMs: options.maxRetryAfter,
      connectTimeoutMs: options.connectTimeout,
      headersTimeoutMs: options.headersTimeout,
      idleTimeoutMs: options.timeout,
      maxTimeMs: options.maxTime,
      retryFailed: options.retryFailed === true,
      headers: options.header,
      maxFilesize: options.maxFilesize,
      hash: options.hash,
      inputFormat: options.inputFormat,
      onConflict: options.onConflict,
      cookies: options.cookies,
      contentDisposition: options.contentDisposition === true,
      userAgent: options.userAgent,
      dryRun: options.dryRun === true,
      signal: controller.signal,
      active,
      onEvent: (event) => reporter.onEvent(event),
    });
    reporter.close();
    const code = exitCodeFor(summary, interruptedBy, options.dryRun === true);
    const meaning = exitMeaning(code, summary, options.joblog);
    if (meaning && !options.quiet && !options.json) stderrLines(`dl: ${meaning}`);
    return code;
  } finally {
    reporter.close();
    process.off('exit', restore);
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
  }
}
