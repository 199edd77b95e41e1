import { lstat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Transport } from './agent.js';
import { FileTooLargeError, HttpStatusError, LocalError, RedirectError, ResumeError, TimeoutError } from '../errors/errors.js';
import { parseChecksum } from '../input/checksum.js';
import type { ActiveJob } from '../engine/job.js';
import { writeBody, type TransferProgress, type TransferStart } from '../fs/part-writer.js';
import { makeFolders } from '../fs/make-folders.js';
import { assertRealFolderInside, partPath, resolveInside } from '../fs/safe-path.js';
import type { NameClaim } from '../input/resolver.js';
import { nameFromDisposition } from './disposition.js';
import type { ResponseBody } from './exchange.js';
import type { HandedOver, NativeFetcher } from './native-fetcher.js';
import { exchangeFollowing } from './redirects.js';
import { withDeadline } from '../utils/deadline.js';
import { loadLater } from '../utils/load-later.js';
import { first, ifRange, parseContentRange, sameVersion, validatorOf, type Validator } from './validator.js';

/** The digest --hash sha256 asks for. */
const SHA256 = ['sha256'] as const;

export interface TransferContext {
  dispatcher: Transport;
  /** Whole small-file exchanges off the JavaScript thread, where this run can use them. */
  fetcher?: NativeFetcher;
  /** Redirects followed before a redirect fails the attempt (TOO_MANY_REDIRECTS). */
  maxRedirections: number;
  destdir: string;
  /** Headers for every request (user-agent included); a job's own headers win over them. */
  headers: Readonly<Record<string, string>>;
  /** The run's signal: aborting it interrupts the transfer (the `.part` file stays). */
  signal: AbortSignal;
  /** Deadline for one whole attempt (--max-time); none when undefined. */
  maxTimeMs: number | undefined;
  /** Largest file accepted (--max-filesize); none when undefined. */
  maxFilesize: number | undefined;
  /** Record the SHA-256 of every finished file (--hash sha256). */
  sha256: boolean;
  /** Name files after the response's Content-Disposition, when it gives one (--content-disposition). */
  names: NameClaim | undefined;
  /** Folders already created in this run, so that each is made once. */
  madeDirs: Set<string>;
}

export interface TransferResult {
  bytes: number;
  status: number;
  /** Final path, relative to the destination folder. */
  path: string;
  sha256?: string;
}

/**
 * One attempt at one download: request (with Range and If-Range when a `.part` of a known version
 * exists), check the status, stream the body into `<final>.part`, check the length, rename to the
 * final name. Whatever goes wrong, nothing appears under the final name, a `.part` is never
 * continued with bytes of another version, and the response body is consumed or destroyed.
 */
export async function transfer(
  job: ActiveJob,
  ctx: TransferContext,
  progress: TransferProgress,
  resume: Validator | undefined,
  onStart: (start: TransferStart) => void,
): Promise<TransferResult> {
  let finalPath = resolveInside(ctx.destdir, job.record.out);
  const checksum = job.record.checksum === undefined ? undefined : parseChecksum(job.record.checksum);
  if (typeof checksum === 'string') throw new LocalError('BAD_CHECKSUM', checksum, false);
  const part = partPath(finalPath);
  const offset = resume ? await sizeOf(part) : 0;
  const validator = offset > 0 ? ifRange(resume!) : undefined;
  const deadline = ctx.maxTimeMs === undefined ? undefined : withDeadline(ctx.signal, ctx.maxTimeMs);
  const signal = deadline?.signal ?? ctx.signal;

  let body: ResponseBody | undefined;
  /** The connection the native fetcher handed over with an answer it did not take. */
  let handed: HandedOver | undefined;
  try {
    // A small file of a plain answer, fetched whole off this thread; any other answer is read on
    // below, over the connection it came on.
    if (ctx.fetcher && offset === 0 && !checksum && !ctx.sha256 && !ctx.names) {
      const { out } = job.record;
      const making = makeFolderFor(ctx, out, finalPath);
      if (making) await making;
      const headers = requestHeaders(ctx, job, 0, undefined);
      const fetching = ctx.fetcher.fetch({ url: job.url, headers, part, final: finalPath, maxBytes: ctx.maxFilesize, signal, progress, onStart });
      const fetched = fetching && (await fetching);
      if (typeof fetched === 'number') {
        onStart({ offset: 0, validator: undefined });
        progress.bytes = fetched;
        progress.total = fetched;
        return { bytes: fetched, status: 200, path: out };
      }
      handed = fetched;
    }
    const response = await exchangeFollowing(handed ?? ctx.dispatcher, job.url, requestHeaders(ctx, job, offset, validator), signal, ctx.maxRedirections);
    body = response.body;
    const { statusCode, headers } = response;
    if (statusCode < 200 || statusCode > 299) {
      // Read a little of the body so the socket can be reused, then let it go.
      await body.drain();
      if (statusCode === 416 && offset > 0) {
        await unlink(part).catch(() => undefined);
        throw new ResumeError(`server refused to resume at byte ${offset} (HTTP 416); starting again`);
      }
      if (statusCode >= 300 && statusCode < 400) {
        throw new RedirectError(`HTTP ${statusCode} ${statusText(statusCode)}: too many redirects, or no Location`);
      }
      throw new HttpStatusError(statusCode, statusText(statusCode), first(headers['retry-after']));
    }

    const served = validatorOf(headers);
    let from = 0;
    let total = contentLength(headers['content-length']);
    if (statusCode === 206) {
      const range = parseContentRange(first(headers['content-range']));
      if (!range || range.start !== offset || (resume && !sameVersion(resume, served))) {
        await unlink(part).catch(() => undefined);
        throw new ResumeError(
          range && range.start !== offset
            ? `server resumed at byte ${range.start} instead of ${offset}; starting again`
            : 'partial answer for another version of the file; starting again',
        );
      }
      from = offset;
      total = range.total ?? (total === undefined ? undefined : offset + total);
    }

    // Before a name is claimed for it: a file refused takes no name.
    if (ctx.maxFilesize !== undefined && total !== undefined && total > ctx.maxFilesize) {
      throw new FileTooLargeError(total, ctx.maxFilesize, true);
    }

    // A name from the response: the .part keeps the job's name (a resume finds it), the file
    // gets this one, recorded in the done record.
    let out = job.record.out;
    const given = ctx.names && nameFromDisposition(first(headers['content-disposition']));
    const folderEnd = given ? out.lastIndexOf('/') + 1 : 0;
    if (given && given !== out.slice(folderEnd)) {
      // Claimed once per job: a retry must not claim the next free name (`a.1.pdf`) for itself.
      if (job.claimed?.given !== given) job.claimed = { given, out: ctx.names!.claimName(out.slice(0, folderEnd) + given) };
      out = job.claimed.out;
      finalPath = resolveInside(ctx.destdir, out);
    }
    const folder = makeFolderFor(ctx, out, finalPath);
    if (folder) await folder;
    const written = await writeBody(body, {
      part,
      final: finalPath,
      from,
      validator: served ?? (from > 0 ? resume : undefined),
      total,
      progress,
      onStart,
      maxBytes: ctx.maxFilesize,
      digests: ctx.sha256 ? SHA256 : undefined,
      expect: checksum,
    });
    return { bytes: progress.bytes, status: statusCode, path: out, sha256: written.digests.sha256 };
  } catch (error) {
    body?.discard();
    if (deadline?.timedOut() && !ctx.signal.aborted) {
      throw new TimeoutError('ETIMEDOUT_TOTAL', `attempt took longer than --max-time ${ctx.maxTimeMs! / 1000} s`, { cause: error });
    }
    throw error;
  } finally {
    handed?.release();
    deadline?.clear();
  }
}

/**
 * Makes the folder a file named `out` (at `finalPath`) goes into, once a run; undefined when
 * there is nothing to make. A name without a folder part goes straight into the destination
 * folder, which run() made: no dirname(), no lookup of a fresh string and no promise for most
 * jobs of a bulk run.
 */
function makeFolderFor(ctx: TransferContext, out: string, finalPath: string): Promise<void> | undefined {
  const dir = out.includes('/') ? dirname(finalPath) : ctx.destdir;
  if (dir === ctx.destdir || ctx.madeDirs.has(dir)) return undefined;
  return makeFolder(ctx, dir);
}

async function makeFolder(ctx: TransferContext, dir: string): Promise<void> {
  await makeFolders(dir);
  await assertRealFolderInside(ctx.destdir, dir);
  ctx.madeDirs.add(dir);
}

/**
 * The request's headers: the run's, the job's own over them, and Range with If-Range to continue
 * a `.part` (the jar's cookies are added by the dispatcher, hop by hop: http/cookie-jar.ts). Most
 * requests of a bulk run have neither and go out with the run's headers as they are.
 */
function requestHeaders(ctx: TransferContext, job: ActiveJob, offset: number, validator: string | undefined): Record<string, string> {
  if (!job.record.headers && !validator) return ctx.headers;
  const headers = { ...ctx.headers, ...job.record.headers };
  if (validator) {
    headers.range = `bytes=${offset}-`;
    headers['if-range'] = validator;
  }
  return headers;
}

/**
 * Bytes of a `.part` that may be continued: a plain file with a single link. Anything else under
 * that name (a symlink or a hard link someone planted) is removed and not trusted.
 */
async function sizeOf(path: string): Promise<number> {
  const info = await lstat(path).catch(() => undefined);
  if (!info) return 0;
  if (info.isFile() && info.nlink === 1) return info.size;
  await unlink(path).catch(() => undefined);
  return 0;
}

function contentLength(value: string | string[] | undefined): number | undefined {
  const text = first(value);
  if (text === undefined || !/^\d+$/.test(text.trim())) return undefined;
  return Number(text);
}

/** Node's http module only for its table of status texts, and only when a request fails. */
const http = loadLater<typeof import('node:http')>('node:http');

function statusText(statusCode: number): string {
  return http().STATUS_CODES[statusCode] ?? '';
}
