import { AbortedError, DlError, LocalError, NetworkError, TimeoutError } from './errors.js';

/** The configured timeouts, so that a timeout error can say how long was waited. */
export interface Timeouts {
  connectMs: number;
  headersMs: number;
  idleMs: number;
}

/**
 * Turns anything thrown during a transfer into a DlError. This is the one place that knows the
 * codes of undici and of the operating system; everything else asks `code` and `retryable`.
 */
export function classify(error: unknown, signal?: AbortSignal, timeouts?: Timeouts): DlError {
  if (error instanceof DlError) return error;
  if (signal?.aborted) return new AbortedError();

  const code = errorCode(error);
  const message = error instanceof Error ? error.message : String(error);

  const timeout = timeoutOf(code, syscallOf(error), timeouts);
  if (timeout) return new TimeoutError(timeout.code, timeout.message, { cause: error });

  // A request that cannot be sent as it is (a CR or LF in a header's value, from -H or an input
  // line): every attempt would fail the same way, so it is final at once.
  if (code === 'UND_ERR_INVALID_ARG') return new LocalError('BAD_HEADER', `cannot send the request: ${message}`, false, { cause: error });

  const local = LOCAL_CODES[code];
  if (local && (!local.onlyFrom || local.onlyFrom.has(syscallOf(error) ?? ''))) return new LocalError(code, local.message, local.fatal, { cause: error });

  const network = NETWORK_CODES[code];
  if (network) return new NetworkError(network.code, network.message, network.retryable, { cause: error });

  if (code === 'ABORT_ERR' || (error instanceof Error && error.name === 'AbortError')) {
    return new AbortedError();
  }
  return new NetworkError(code || 'EUNKNOWN', message || 'unknown error', true, { cause: error });
}

function timeoutOf(code: string, syscall: string | undefined, timeouts: Timeouts | undefined): { code: TimeoutError['code']; message: string } | undefined {
  const seconds = (ms: number | undefined) => (ms === undefined ? '' : ` ${ms / 1000} s`);
  const connect = { code: 'ETIMEDOUT_CONNECT', message: `could not connect within${seconds(timeouts?.connectMs) || ' the connect timeout'}` } as const;
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return connect;
    case 'ETIMEDOUT':
      // The system's own ETIMEDOUT is a connect timeout only from connect(): from a read or a
      // write it is a connection that stopped answering mid-transfer (NETWORK_CODES), or a file
      // system that did (a soft network mount).
      return syscall === undefined || syscall === 'connect' ? connect : undefined;
    case 'UND_ERR_HEADERS_TIMEOUT':
      return { code: 'ETIMEDOUT_HEADERS', message: `no response within${seconds(timeouts?.headersMs) || ' the headers timeout'}` };
    case 'UND_ERR_BODY_TIMEOUT':
      return { code: 'ETIMEDOUT_BODY', message: `no data for${seconds(timeouts?.idleMs) || ' the idle timeout'}` };
    default:
      return undefined;
  }
}

/** The system call an error of Node's names (`connect`, `read`, `write`...), if any. */
function syscallOf(error: unknown): string | undefined {
  const syscall = (error as { syscall?: unknown } | null)?.syscall;
  return typeof syscall === 'string' ? syscall : undefined;
}

function errorCode(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return '';
}

/**
 * The system calls of files and folders. ENOENT from anything else is not about a file: a name
 * lookup (getaddrinfo) that failed with ENOENT is a DNS failure, retried as network errors are.
 */
const FILE_SYSCALLS = new Set(['open', 'mkdir', 'stat', 'lstat', 'rename', 'link', 'unlink', 'access', 'realpath', 'write', 'close']);

/** Errors of this machine, by code; `onlyFrom`: local only when one of these system calls gave it. */
const LOCAL_CODES: Record<string, { message: string; fatal: boolean; onlyFrom?: ReadonlySet<string> } | undefined> = {
  ENOSPC: { message: 'disk full', fatal: true },
  EDQUOT: { message: 'disk quota exceeded', fatal: true },
  EROFS: { message: 'read-only file system', fatal: true },
  EACCES: { message: 'permission denied', fatal: false },
  EPERM: { message: 'operation not permitted', fatal: false },
  EISDIR: { message: 'a folder is in the way of the file', fatal: false },
  ENOTDIR: { message: 'a file is in the way of a folder', fatal: false },
  // A folder that cannot be made (under /proc, behind a link to nothing) or that went meanwhile,
  // which another attempt would find the same.
  ENOENT: { message: 'no such file or folder', fatal: false, onlyFrom: FILE_SYSCALLS },
  // What mkdir says of a file where a folder must go (dl's own creates handle theirs).
  EEXIST: { message: 'a file is in the way of a folder', fatal: false },
  ENAMETOOLONG: { message: 'file name too long', fatal: false },
  EMFILE: { message: 'too many open files', fatal: false },
};

const NETWORK_CODES: Record<string, { code: string; message: string; retryable: boolean } | undefined> = {
  ECONNRESET: { code: 'ECONNRESET', message: 'connection reset', retryable: true },
  UND_ERR_SOCKET: { code: 'ECONNRESET', message: 'connection closed by the server', retryable: true },
  UND_ERR_CLOSED: { code: 'ECONNRESET', message: 'connection closed', retryable: true },
  EPIPE: { code: 'ECONNRESET', message: 'connection closed by the server', retryable: true },
  ECONNREFUSED: { code: 'ECONNREFUSED', message: 'connection refused', retryable: true },
  ECONNABORTED: { code: 'ECONNRESET', message: 'connection aborted', retryable: true },
  EHOSTUNREACH: { code: 'EHOSTUNREACH', message: 'host unreachable', retryable: true },
  ENETUNREACH: { code: 'ENETUNREACH', message: 'network unreachable', retryable: true },
  ETIMEDOUT: { code: 'ETIMEDOUT', message: 'timed out mid-transfer (connection or file system)', retryable: true },
  EAI_AGAIN: { code: 'EAI_AGAIN', message: 'temporary DNS failure', retryable: true },
  ENOTFOUND: { code: 'ENOTFOUND', message: 'host not found', retryable: false },
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: { code: 'SHORT_BODY', message: 'body length differs from Content-Length', retryable: true },
  HPE_INVALID_CONSTANT: { code: 'EPROTO', message: 'invalid HTTP response', retryable: true },
  UND_ERR_INFO: { code: 'EPROTO', message: 'invalid HTTP response', retryable: true },
  CERT_HAS_EXPIRED: { code: 'ETLS', message: 'TLS certificate has expired', retryable: false },
  DEPTH_ZERO_SELF_SIGNED_CERT: { code: 'ETLS', message: 'self-signed TLS certificate', retryable: false },
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: { code: 'ETLS', message: 'TLS certificate cannot be verified', retryable: false },
  ERR_TLS_CERT_ALTNAME_INVALID: { code: 'ETLS', message: 'TLS certificate does not match the host', retryable: false },
};
