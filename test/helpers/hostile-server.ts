import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { contentFor, type Handler } from './server.js';

/**
 * A server that misbehaves on purpose, chosen per URL by its path:
 *
 *   /clean/NAME                          200 with Content-Length
 *   /status/CODE/TIMES/NAME              CODE (500, 502, 503, 408, ...) TIMES times, then 200
 *   /retry-after/CODE/SECONDS/TIMES/NAME CODE (429 or 503) with Retry-After TIMES times, then 200
 *   /reset/TIMES/NAME                    half of the body, then a connection reset, TIMES times
 *   /short/TIMES/NAME                    half of the body, then a clean close (short body), TIMES times
 *   /stall/MS/TIMES/NAME                 half of the body, then MS ms of silence, TIMES times
 *   /stall-headers/MS/TIMES/NAME         MS ms before any answer, TIMES times
 *   /change/NAME                         version 1 breaks after half; from then on version 2
 *   /chunked/NAME                        chunked transfer encoding, no Content-Length
 *   /slow/MS/NAME                        4 KiB pieces MS ms apart
 *   /gone/CODE/NAME                      CODE (404, 410) every time
 *
 * Every 200 carries a strong ETag and Last-Modified and honours Range with If-Range, as real
 * file servers do, so resumed downloads can be checked byte for byte with `expectedBody`.
 */
export function hostileHandler(): Handler {
  const seen = new Map<string, number>();
  return async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const nth = (seen.get(path) ?? 0) + 1;
    seen.set(path, nth);
    const [, mode = '', a = '', b = '', c = ''] = path.split('/').map((part) => decodeURIComponent(part));
    switch (mode) {
      case 'status':
        if (nth <= Number(b)) return void res.writeHead(Number(a)).end('try later');
        return serve(req, res, path, 1);
      case 'retry-after':
        if (nth <= Number(c)) return void res.writeHead(Number(a), { 'retry-after': b }).end('slow down');
        return serve(req, res, path, 1);
      case 'reset':
        return serve(req, res, path, 1, nth <= Number(a) ? 'reset' : undefined);
      case 'short':
        return serve(req, res, path, 1, nth <= Number(a) ? 'short' : undefined);
      case 'stall':
        return serve(req, res, path, 1, nth <= Number(b) ? { stallMs: Number(a) } : undefined);
      case 'stall-headers':
        if (nth <= Number(b)) await delay(Number(a), res);
        return serve(req, res, path, 1);
      case 'change':
        return serve(req, res, path, nth === 1 ? 1 : 2, nth === 1 ? 'reset' : undefined);
      case 'chunked':
        return serve(req, res, path, 1, 'chunked');
      case 'slow':
        return serve(req, res, path, 1, { pieceDelayMs: Number(a) });
      case 'gone':
        return void res.writeHead(Number(a)).end('gone');
      default:
        return serve(req, res, path, 1);
    }
  };
}

/** The bytes a hostile URL must end up as on disk (the last version for /change/). */
export function expectedBody(path: string): Buffer {
  return contentFor(path.startsWith('/change/') ? `${path}#v2` : `${path}#v1`);
}

/** How long a breaking response waits after its first half before it breaks. */
const BREAK_AFTER_MS = 50;

/** `prefix` + a name whose body is at least `minBytes` long (bodies are 0.5 to 40 KiB). */
export function sizedPath(prefix: string, minBytes: number, version = 1): string {
  for (let i = 0; ; i++) {
    const path = `${prefix}big-${i}.bin`;
    if (contentFor(`${path}#v${version}`).length >= minBytes) return path;
  }
}

type Trouble = 'reset' | 'short' | 'chunked' | { stallMs: number } | { pieceDelayMs: number } | undefined;

async function serve(req: IncomingMessage, res: ServerResponse, path: string, version: number, trouble?: Trouble): Promise<void> {
  const body = contentFor(`${path}#v${version}`);
  const etag = `"v${version}-${body.length}"`;
  const headers: Record<string, string | number> = {
    etag,
    'last-modified': new Date(Date.UTC(2026, 0, version)).toUTCString(),
    'accept-ranges': 'bytes',
    'content-type': 'application/octet-stream',
  };
  let start = 0;
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  const ifRange = req.headers['if-range'];
  if (range && (!ifRange || ifRange === etag)) {
    start = Number(range[1]);
    if (start >= body.length) return void res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
    headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
  }
  const rest = body.subarray(start);
  if (trouble !== 'chunked') headers['content-length'] = rest.length;
  res.writeHead(start > 0 ? 206 : 200, headers);

  const half = Math.max(1, Math.floor(rest.length / 2));
  if (trouble === 'reset' || trouble === 'short') {
    res.write(rest.subarray(0, half));
    // Let the client read the first half: a reset makes its kernel drop what it has not read yet.
    await delay(BREAK_AFTER_MS, res);
    // req.socket, not res.socket: a response queued behind another on a keep-alive connection
    // has no socket of its own yet, and breaking "it" would do nothing.
    if (trouble === 'reset') req.socket.resetAndDestroy();
    else req.socket.end();
    return;
  }
  if (trouble && typeof trouble === 'object' && 'stallMs' in trouble) {
    res.write(rest.subarray(0, half));
    await delay(trouble.stallMs, res);
    if (!res.destroyed) res.end(rest.subarray(half));
    return;
  }
  if (trouble && typeof trouble === 'object' && 'pieceDelayMs' in trouble) {
    for (let i = 0; i < rest.length && !res.destroyed; i += 4096) {
      const last = i + 4096 >= rest.length;
      if (last) res.end(rest.subarray(i));
      else {
        res.write(rest.subarray(i, i + 4096));
        await delay(trouble.pieceDelayMs, res);
      }
    }
    return;
  }
  if (trouble === 'chunked') {
    res.write(rest.subarray(0, half));
    res.end(rest.subarray(half));
    return;
  }
  res.end(rest);
}

/** Waits `ms`, or less when the client goes away. */
function delay(ms: number, res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      res.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    res.on('close', done);
  });
}

/** How many URLs of each kind a mixed hostile list has (the rest, up to `total`, are clean). */
export interface HostileMix {
  total: number;
  /** Per status (500, 502, 503), each failing 1-3 times. */
  status: number;
  /** Per status (429, 503) with Retry-After: 1, each failing 1 to `retryAfterTimes` times. */
  retryAfter: number;
  retryAfterTimes: number;
  reset: number;
  short: number;
  /** Mid-body silence of 1.5 s: well under the default 60 s idle timeout. */
  stall: number;
  change: number;
  chunked: number;
  slow: number;
  slowPieceMs: number;
  gone404: number;
  gone410: number;
}

/** A mixed hostile list: paths that must end up byte-correct, and the permanent failures. */
export function hostileList(mix: HostileMix): { recoverable: string[]; permanent: string[] } {
  const recoverable: string[] = [];
  const permanent: string[] = [];
  let n = 0;
  const add = (prefix: (i: number) => string, count: number, kind: string): void => {
    for (let i = 0; i < count; i++) recoverable.push(`${prefix(i)}/${kind}-${n++}.bin`);
  };
  const times = (i: number): number => (i % 3) + 1;
  for (const code of [500, 502, 503]) add((i) => `/status/${code}/${times(i)}`, mix.status, `s${code}`);
  for (const code of [429, 503]) add((i) => `/retry-after/${code}/1/${(i % mix.retryAfterTimes) + 1}`, mix.retryAfter, `ra${code}`);
  add((i) => `/reset/${times(i)}`, mix.reset, 'reset');
  add((i) => `/short/${times(i)}`, mix.short, 'short');
  add(() => '/stall/1500/1', mix.stall, 'stall');
  add(() => '/change', mix.change, 'change');
  add(() => '/chunked', mix.chunked, 'chunked');
  add(() => `/slow/${mix.slowPieceMs}`, mix.slow, 'slow');
  for (let i = 0; i < mix.gone404; i++) permanent.push(`/gone/404/gone404-${n++}.bin`);
  for (let i = 0; i < mix.gone410; i++) permanent.push(`/gone/410/gone410-${n++}.bin`);
  add(() => '/clean', mix.total - recoverable.length - permanent.length, 'clean');
  return { recoverable, permanent };
}

/** The file name dl gives a hostile path (every name in a hostile list is unique). */
export const nameOf = (path: string): string => path.slice(path.lastIndexOf('/') + 1);

/** The recoverable paths whose file in `out` is missing or not byte for byte the last version. */
export async function wrongFiles(out: string, recoverable: readonly string[]): Promise<string[]> {
  const wrong: string[] = [];
  for (const path of recoverable) {
    const got = await readFile(join(out, nameOf(path))).catch(() => undefined);
    if (!got || !got.equals(expectedBody(path))) wrong.push(`${path}: ${got ? `${got.length} bytes, differs` : 'missing'}`);
  }
  return wrong;
}
