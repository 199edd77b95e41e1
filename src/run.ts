import { access, constants, open } from 'node:fs/promises';
import { setMaxListeners } from 'node:events';
import { dirname, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { createJobRunner, type ActiveTransfers, type Tally } from './engine/job-runner.js';
import type { DlEvent, EventListener, RunSummary } from './engine/events.js';
import { hostKeyOf } from './engine/host-key.js';
import { activeJob, type ActiveJob } from './engine/job.js';
import { Limits } from './engine/limits.js';
import { createRetryPolicy, type RetryPolicy } from './engine/retry-policy.js';
import { Scheduler } from './engine/scheduler.js';
import { classify } from './errors/classify.js';
import { DlError, JoblogError, LocalError } from './errors/errors.js';
import { makeFolders } from './fs/make-folders.js';
import { NameAllocator } from './fs/name-allocator.js';
import { createDispatcher } from './http/agent.js';
import { NativeFetcher } from './http/native-fetcher.js';
import { checkLimits, type RunLimits } from './engine/check-limits.js';
import { CookieJar } from './http/cookie-jar.js';
import { readLineBatches } from './input/lines.js';
import { lineParser } from './input/formats.js';
import { ExistingFiles } from './fs/existing-files.js';
import { Resolver, type NewJob } from './input/resolver.js';
import type { ConflictPolicy, InputFormat, JobSpec } from './input/spec.js';
import { checkInputFiles, inputSources, type InputSource } from './input/sources.js';
import { JoblogLock } from './joblog/lock.js';
import { forEachJob, readJoblog, readJobAt, type PendingJobs } from './joblog/reader.js';
import { JOBLOG_VERSION, jobKey, now } from './joblog/records.js';
import { repairTornTail } from './joblog/repair.js';
import { JoblogWriter } from './joblog/writer.js';
import { DEFAULTS, defaultJoblog } from './options.js';
import { SlotArray } from './utils/slot-array.js';
import { HashSet } from './utils/hash-set.js';
import { onAbort } from './utils/on-abort.js';
import { VERSION } from './version.js';
import { monotonicMs } from './utils/clock.js';

export interface RunOptions extends RunLimits {
  /** Input files, one URL per line; `-` is standard input. */
  inputs: readonly string[];
  /** What `-` reads (process.stdin unless given). */
  stdin?: () => Readable;
  /** The joblog; defaults to `.dl-joblog.jsonl` in the destination folder. */
  joblog?: string;
  destdir?: string;
  userAgent?: string;
  /** Record the SHA-256 of every finished file in its done record (computed while it streams). */
  hash?: 'sha256';
  /** A larger file fails with FILE_TOO_LARGE (known from Content-Length, or found while streaming). */
  maxFilesize?: number;
  /** Headers for every request (names in lower case); a job's own headers win. */
  headers?: Readonly<Record<string, string>>;
  /** Retries after the first attempt (default 5) and the backoff base and cap. */
  retries?: number;
  retryWaitMs?: number;
  retryMaxWaitMs?: number;
  maxRetryAfterMs?: number;
  connectTimeoutMs?: number;
  headersTimeoutMs?: number;
  /** No body bytes for this long fails the attempt. */
  idleTimeoutMs?: number;
  /** Deadline for one attempt; none by default. */
  maxTimeMs?: number;
  /** Name files after the response's Content-Disposition header when it gives a name. */
  contentDisposition?: boolean;
  /** A Netscape cookies.txt file whose cookies are sent with matching requests. */
  cookies?: string;
  /** A new job's name is taken by a file this joblog did not write: another name (default), skip it, or replace it. */
  onConflict?: ConflictPolicy;
  /** The format of every input file; by default each file's is detected from its first entry. */
  inputFormat?: InputFormat;
  /** Resolve only: read the inputs into the joblog and download nothing. */
  dryRun?: boolean;
  /** Also retry jobs that failed for good in earlier runs. */
  retryFailed?: boolean;
  /** Replaces the policy built from the retry options. */
  retry?: RetryPolicy;
  /** Aborting it stops the run: transfers are cut, `.part` files kept, the joblog flushed. */
  signal?: AbortSignal;
  onEvent?: EventListener;
  /** Filled with the transfers under way, for reporters that draw progress. */
  active?: ActiveTransfers;
}

/**
 * One run: open the joblog (lock, repair, one pass), resume its pending jobs and stream the
 * inputs into new jobs at the same time, and wait until every admitted job has an outcome or
 * the run is stopped. Resolves with the summary; rejects only when the run cannot start.
 */
export async function run(options: RunOptions): Promise<RunSummary> {
  const startedAt = monotonicMs();
  checkLimits(options);
  const workers = options.workers ?? DEFAULTS.workers;
  const perHost = options.perHost ?? DEFAULTS.perHost;
  const perSite = options.perSite ?? DEFAULTS.perSite;
  const retries = options.retries ?? DEFAULTS.retries;
  const emit: EventListener = options.onEvent ?? (() => undefined);
  const destdir = resolve(options.destdir ?? '.');
  const joblog = resolve(options.joblog ?? defaultJoblog(destdir));

  await checkInputFiles(options.inputs, joblog);
  const cookies = options.cookies === undefined ? undefined : await CookieJar.load(options.cookies);
  await prepareDestdir(destdir);
  await opening(joblog, makeFolders(dirname(joblog)));
  const lock = await opening(joblog, JoblogLock.acquire(joblog));
  const closers: Array<() => Promise<unknown>> = [() => lock.release()];
  try {
    const droppedBytes = await opening(joblog, repairTornTail(joblog));
    if (droppedBytes > 0) emit({ type: 'joblog-repaired', joblog, droppedBytes });
    const state = await opening(joblog, readJoblog(joblog, { retryFailed: options.retryFailed === true }));
    if (state.badLines > 0) emit({ type: 'joblog-bad-lines', joblog, count: state.badLines });
    emit({ type: 'plan', jobs: state.jobs, finished: state.doneCount + state.failedCount });

    const controller = new AbortController();
    // Every transfer listens on the run's signal; thousands at once are expected, not a leak.
    setMaxListeners(0, controller.signal);
    let fatal: DlError | undefined;
    let stopAdmitting = (): void => undefined;
    const stop = (error?: DlError): void => {
      if (error && !fatal) {
        fatal = error;
        emit({ type: 'fatal', code: error.code, error: error.message });
      }
      controller.abort();
      stopAdmitting();
    };
    if (options.signal?.aborted) controller.abort();
    else if (options.signal) {
      // Let go of when the run ends: a caller may pass one long-lived signal to many runs.
      const stopListening = onAbort(options.signal, () => stop());
      closers.unshift(async () => stopListening());
    }

    const writer = await opening(
      joblog,
      JoblogWriter.open(joblog, {
        onError: (error) => stop(new LocalError(classify(error).code, `cannot write the joblog: ${error.message}`, true)),
      }),
    );
    closers.unshift(() => writer.close());
    writer.append({
      t: 'run',
      v: JOBLOG_VERSION,
      ts: now(),
      pid: process.pid,
      version: VERSION,
      inputs: [...options.inputs],
      options: {
        destdir,
        workers,
        perHost,
        perSite,
        retries,
      },
    });
    const readHandle = await open(joblog, 'r');
    closers.unshift(() => readHandle.close());

    const limits = new Limits({
      global: workers,
      perHost,
      perSite,
      hostLimits: options.hostLimits,
      siteLimits: options.siteLimits,
      // A job that sleeps (a backoff, its host's cooldown) lends its place: the scheduler is below.
      awayFor: (host, wait): Promise<void> => scheduler.awayFor(host, wait),
    });
    const timeouts = {
      connectMs: options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
      headersMs: options.headersTimeoutMs ?? DEFAULTS.headersTimeoutMs,
      idleMs: options.idleTimeoutMs ?? DEFAULTS.idleTimeoutMs,
    };
    const dispatcher = createDispatcher({
      connectionsFor: (origin) => limits.hostLimit(hostKeyOf(origin)),
      timeouts,
      cookies,
    });
    closers.unshift(() => dispatcher.destroy());
    const fetcher = NativeFetcher.forRun(timeouts, dispatcher);
    if (fetcher) closers.unshift(async () => fetcher.close());

    const tally: Tally = { done: 0, failed: 0, bytes: 0 };
    const execute = createJobRunner({
      limits,
      writer,
      emit,
      tally,
      timeouts,
      retry:
        options.retry ??
        createRetryPolicy({
          retries,
          baseMs: options.retryWaitMs ?? DEFAULTS.retryWaitMs,
          capMs: options.retryMaxWaitMs ?? DEFAULTS.retryMaxWaitMs,
          maxRetryAfterMs: options.maxRetryAfterMs ?? DEFAULTS.maxRetryAfterMs,
        }),
      signal: controller.signal,
      active: options.active ?? new SlotArray(),
      onFatal: stop,
      transfer: {
        dispatcher,
        fetcher,
        maxRedirections: DEFAULTS.maxRedirections,
        destdir,
        headers: { 'user-agent': options.userAgent ?? `dl/${VERSION}`, ...options.headers },
        signal: controller.signal,
        maxTimeMs: options.maxTimeMs,
        maxFilesize: options.maxFilesize,
        sha256: options.hash === 'sha256',
        // The resolver (made below) names files; transfers only ask once they run.
        names: options.contentDisposition ? { claimName: (path: string) => resolver.claimName(path) } : undefined,
        madeDirs: new Set([destdir]),
      },
    });
    const reload = async (seq: number, offset: number): Promise<ActiveJob | undefined> => {
      try {
        await writer.readable(offset);
        const record = await readJobAt(readHandle, offset);
        return activeJob(record, offset, new URL(record.url), state.resumable.get(seq));
      } catch {
        return undefined; // an unreadable job line stays pending; the next pass reports the log
      }
    };
    const scheduler = new Scheduler({
      window: Math.max(DEFAULTS.window, DEFAULTS.backlogPerSlot * workers),
      hostSlots: (host) => limits.hostLimit(host),
      siteSlots: (site) => limits.siteLimit(site),
      slots: workers,
      backlogPerSlot: DEFAULTS.backlogPerSlot,
      parkedInMemory: DEFAULTS.parkedInMemory,
      readAhead: DEFAULTS.readAhead,
      maxAway: DEFAULTS.maxAway,
      execute,
      reload,
    });
    stopAdmitting = () => scheduler.stop();

    // Sized for the log's jobs up front: no rehashing (and no double-size moment) while indexing.
    const keys = new HashSet(64, state.jobs + 1024);
    const names = new NameAllocator(state.jobs + 1024);
    const resolver = new Resolver({
      writer,
      keys,
      names,
      emit,
      lastSeq: state.lastSeq,
      existing: new ExistingFiles(destdir),
      onConflict: options.onConflict ?? 'rename',
    });
    const jobCount = (): number => state.jobs + (resolver.lastSeq - state.lastSeq);
    const sources = inputSources(options.inputs, options.stdin ?? (() => process.stdin));
    // Pending jobs start first; the URLs and names of the log's jobs (for new input lines) are
    // indexed by a second pass meanwhile, and the inputs are read once it is done.
    const indexed =
      sources.length === 0
        ? Promise.resolve()
        : forEachJob(joblog, state.size, (job) => {
            keys.add(jobKey(job.url, job.named ? job.out : undefined));
            names.reserve(job.out);
          });
    const admit = options.dryRun
      ? () => undefined
      : ({ record, offset, url }: NewJob) => scheduler.submit(activeJob(record, offset, url));
    await Promise.all([
      options.dryRun ? undefined : resumePending(state.pending, scheduler, reload, controller.signal),
      indexed.then(() => readInputs(sources, resolver, admit, controller.signal, emit, options.inputFormat)).then((complete) => {
        if (complete && sources.length > 0) {
          writer.append({ t: 'eof', ts: now(), jobs: jobCount() });
          emit({ type: 'resolved', jobs: jobCount() });
        }
      }),
    ]);
    await scheduler.idle();
    await writer.flush().catch(() => undefined); // a write failure has already stopped the run

    const done = state.doneCount + tally.done + resolver.skippedExisting;
    const failed = state.failedCount + tally.failed;
    const jobs = jobCount();
    const summary: RunSummary = {
      jobs,
      done,
      failed,
      pending: jobs - done - failed,
      skipped: state.doneCount + state.failedCount,
      rejected: resolver.rejected,
      doneThisRun: tally.done,
      failedThisRun: tally.failed,
      bytesThisRun: tally.bytes,
      bytes: state.bytes + tally.bytes,
      durationMs: monotonicMs() - startedAt,
      interrupted: controller.signal.aborted && !fatal,
      ...(fatal ? { fatal: { code: fatal.code, error: fatal.message } } : {}),
    };
    emit({ type: 'summary', summary } satisfies DlEvent);
    return summary;
  } finally {
    for (const close of closers) await close().catch(() => undefined);
  }
}

/** Jobs the log has that are not finished, admitted in seq order and read back as they go. */
async function resumePending(
  pending: PendingJobs,
  scheduler: Scheduler,
  reload: (seq: number, offset: number) => Promise<ActiveJob | undefined>,
  signal: AbortSignal,
): Promise<void> {
  for (let i = 0; i < pending.seqs.length && !signal.aborted; i++) {
    const job = await reload(pending.seqs[i]!, pending.offsets[i]!);
    const wait = job && scheduler.submit(job);
    if (wait) await wait;
  }
}

/** Streams every input into jobs; resolves true when every input was read to its end. */
async function readInputs(
  sources: readonly InputSource[],
  resolver: Resolver,
  admit: (job: NewJob) => Promise<void> | undefined,
  signal: AbortSignal,
  emit: EventListener,
  format: InputFormat | undefined,
): Promise<boolean> {
  for (const source of sources) {
    if (signal.aborted) return false;
    const { chunks, cut } = source.open();
    const stopListening = onAbort(signal, cut);
    // Entries come out of the parser as lines go in (an aria2 entry when the next one starts).
    const entries: JobSpec[] = [];
    const parser = lineParser(
      source.label,
      {
        entry: (spec) => entries.push(spec),
        reject: (src, reason) => resolver.reject(src, reason),
        warn: (src, reason) => emit({ type: 'input-warning', src, reason }),
      },
      format,
    );
    // Synchronous unless admission has to wait (a full window): no await per line at speed.
    const admitAll = (): Promise<void> | undefined => {
      while (entries.length > 0) {
        const job = resolver.resolve(entries.shift()!);
        const wait = job && admit(job);
        if (wait) return wait.then(admitAll);
      }
      return undefined;
    };
    try {
      for await (const { lines, chunkEnd } of readLineBatches(chunks)) {
        for (const { text, line } of lines) {
          if (signal.aborted) return false;
          parser.line(text, line);
          const wait = admitAll();
          if (wait) await wait;
        }
        // From a pipe, a URL must start now, not when the producer writes the next one.
        if (source.live && chunkEnd) {
          parser.end();
          await admitAll();
        }
      }
      parser.end();
      await admitAll();
    } catch (error) {
      if (signal.aborted) return false;
      resolver.reject(source.label, `cannot read: ${classify(error).message}`);
    } finally {
      stopListening();
    }
  }
  return !signal.aborted;
}

/**
 * A step of opening the joblog: a system error in it (a folder that cannot be written, a file in
 * the way, the joblog a folder) ends the run before it starts, with a message naming the joblog.
 */
function opening<T>(joblog: string, step: Promise<T>): Promise<T> {
  return step.catch((error: unknown) => {
    if (error instanceof DlError) throw error;
    throw new JoblogError(`cannot open the joblog ${joblog}: ${classify(error).message}`, { cause: error });
  });
}

/** The destination folder exists and can be written, or the run does not start. */
async function prepareDestdir(destdir: string): Promise<void> {
  try {
    await makeFolders(destdir);
    await access(destdir, constants.W_OK | constants.X_OK);
  } catch (error) {
    const local = classify(error);
    throw new LocalError(local.code, `cannot write to the destination folder ${destdir}: ${local.message}`, true);
  }
}

