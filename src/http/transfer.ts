import { createWriteStream } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import { STATUS_CODES } from 'node:http';
import { dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { request, type Dispatcher } from 'undici';
import { BodyLengthError, HttpStatusError, RedirectError } from '../errors/errors.js';
import type { ActiveJob } from '../engine/job.js';
import { partPath, resolveInside } from '../fs/safe-path.js';

export interface TransferContext {
  dispatcher: Dispatcher;
  destdir: string;
  userAgent: string;
  signal: AbortSignal;
  /** Folders already created in this run, so that each is made once. */
  madeDirs: Set<string>;
}

/** Live counters of one transfer; reporters read them, the transfer never waits on them. */
export interface TransferProgress {
  bytes: number;
  /** Expected size, when the server said (Content-Length). */
  total: number | undefined;
}

export interface TransferResult {
  bytes: number;
  status: number;
  /** Final path, relative to the destination folder. */
  path: string;
}

/**
 * One attempt at one download: request, check the status, stream the body to `<final>.part`,
 * check its length against Content-Length, rename to the final name. Whatever goes wrong,
 * nothing appears under the final name and the response body is consumed or destroyed.
 */
export async function transfer(job: ActiveJob, ctx: TransferContext, progress: TransferProgress): Promise<TransferResult> {
  const finalPath = resolveInside(ctx.destdir, job.record.out);
  const response = await request(job.url, {
    dispatcher: ctx.dispatcher,
    method: 'GET',
    headers: { 'user-agent': ctx.userAgent, ...job.record.headers },
    signal: ctx.signal,
  });
  const { statusCode, headers, body } = response;
  if (statusCode < 200 || statusCode > 299) {
    // Read a little of the body so the socket can be reused, then let it go.
    await body.dump({ limit: 64 * 1024 }).catch(() => undefined);
    if (statusCode >= 300 && statusCode < 400) {
      throw new RedirectError(`HTTP ${statusCode} ${STATUS_CODES[statusCode] ?? ''}: too many redirects or no Location`);
    }
    throw new HttpStatusError(statusCode, STATUS_CODES[statusCode] ?? '', headerValue(headers['retry-after']));
  }

  try {
    const expected = contentLength(headers['content-length']);
    progress.total = expected;
    const dir = dirname(finalPath);
    if (!ctx.madeDirs.has(dir)) {
      await mkdir(dir, { recursive: true });
      ctx.madeDirs.add(dir);
    }
    const part = partPath(finalPath);
    const written = pipeline(body, createWriteStream(part, { highWaterMark: 1 << 20 }), { signal: ctx.signal });
    body.on('data', (chunk: Buffer) => {
      progress.bytes += chunk.length;
    });
    await written;
    if (expected !== undefined && progress.bytes !== expected) throw new BodyLengthError(progress.bytes, expected);
    await rename(part, finalPath);
    return { bytes: progress.bytes, status: statusCode, path: job.record.out };
  } catch (error) {
    body.destroy();
    throw error;
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function contentLength(value: string | string[] | undefined): number | undefined {
  const text = headerValue(value);
  if (text === undefined || !/^\d+$/.test(text.trim())) return undefined;
  return Number(text);
}
