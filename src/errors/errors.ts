/**
 * The error family of dl. Every error that can end a job or a run is one of these classes and
 * carries a stable `code` string; reporters, the joblog and exit codes depend on the code, never
 * on the message. Messages are for people; URLs in them are always redacted.
 */

export abstract class DlError extends Error {
  /** Stable, machine-readable identifier (recorded in the joblog's `fail.code`). */
  abstract readonly code: string;
  /** Whether another attempt may succeed (the retry policy asks this, nothing else). */
  abstract readonly retryable: boolean;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The server answered with a status dl does not accept as a download. */
export class HttpStatusError extends DlError {
  readonly code: string;
  readonly retryable: boolean;

  constructor(
    readonly status: number,
    statusText: string,
    /** Raw Retry-After header value, kept for the retry policy. */
    readonly retryAfter?: string,
  ) {
    super(`HTTP ${status}${statusText ? ` ${statusText}` : ''}`);
    this.code = `HTTP_${status}`;
    this.retryable = RETRYABLE_STATUS.has(status);
  }
}

/** Statuses that say "try again later"; every other non-2xx answer is final. */
const RETRYABLE_STATUS: ReadonlySet<number> = new Set([408, 425, 429, 500, 502, 503, 504]);

/** A connection-level failure: reset, refused, DNS, TLS, socket closed. */
export class NetworkError extends DlError {
  constructor(
    readonly code: string,
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The body did not match what the headers promised. */
export class BodyLengthError extends DlError {
  readonly code: 'SHORT_BODY' | 'LONG_BODY';
  readonly retryable = true;

  constructor(
    readonly received: number,
    readonly expected: number,
  ) {
    super(
      received < expected
        ? `body ended after ${received} of ${expected} bytes`
        : `body is longer than its Content-Length (${received} > ${expected} bytes)`,
    );
    this.code = received < expected ? 'SHORT_BODY' : 'LONG_BODY';
  }
}

/** A deadline passed: connect, response headers, idle body, or the whole attempt (--max-time). */
export class TimeoutError extends DlError {
  readonly retryable = true;
  constructor(
    readonly code: 'ETIMEDOUT_CONNECT' | 'ETIMEDOUT_HEADERS' | 'ETIMEDOUT_BODY' | 'ETIMEDOUT_TOTAL',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The body is larger than --max-filesize: final, a retry would get the same file. */
export class FileTooLargeError extends DlError {
  readonly code = 'FILE_TOO_LARGE';
  readonly retryable = false;
  constructor(size: number, limit: number, announced: boolean) {
    super(`${announced ? 'file is' : 'file is more than'} ${size} bytes, over --max-filesize ${limit}`);
  }
}

/** The file's digest is not the checksum the input gave: retried (the server may have sent garbage), then final. */
export class ChecksumError extends DlError {
  readonly code = 'CHECKSUM_MISMATCH';
  readonly retryable = true;
  constructor(algorithm: string, expected: string, actual: string) {
    super(`${algorithm} of the file is ${actual}, not ${expected}`);
  }
}

/** A resumed download did not continue where the partial file ends: start again from 0. */
export class ResumeError extends DlError {
  readonly code = 'BAD_RANGE';
  readonly retryable = true;
}

/** Too many redirects, or a redirect that cannot be followed. */
export class RedirectError extends DlError {
  readonly code = 'TOO_MANY_REDIRECTS';
  readonly retryable = false;
}

/** A failure on this machine: disk full, permission denied, a name that cannot be written. */
export class LocalError extends DlError {
  constructor(
    readonly code: string,
    message: string,
    /** A local error stops the whole run when no other job could succeed either (disk full). */
    readonly fatal: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
  readonly retryable = false;
}

/** The run was interrupted (SIGINT, SIGTERM): the job is neither done nor failed. */
export class AbortedError extends DlError {
  readonly code = 'ABORTED';
  readonly retryable = false;
  constructor() {
    super('interrupted');
  }
}

/** Wrong options or arguments: the CLI exits with 2. */
export class UsageError extends DlError {
  readonly code = 'USAGE';
  readonly retryable = false;
}

/** Another live process holds the joblog's lock: the CLI exits with 2. */
export class JoblogLockedError extends DlError {
  readonly code = 'JOBLOG_LOCKED';
  readonly retryable = false;
  constructor(
    readonly joblog: string,
    readonly holderPid: number,
  ) {
    super(`joblog ${joblog} is in use by another dl process (pid ${holderPid})`);
  }
}

/** The joblog cannot be read or understood at all. */
export class JoblogError extends DlError {
  readonly code = 'JOBLOG';
  readonly retryable = false;
}
