import { getSystemErrorName } from 'node:util';

/**
 * An error of dl's own HTTP/1.1 connections, with the code undici gives the same failure
 * (UND_ERR_SOCKET, UND_ERR_HEADERS_TIMEOUT, HPE_INVALID_CONSTANT, ...), so that
 * errors/classify.ts reads both alike.
 */
export class HttpError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** The connection ended before the answer was whole (undici's code and words for it). */
export function otherSideClosed(): HttpError {
  return new HttpError('UND_ERR_SOCKET', 'other side closed');
}

/** No connection within the connect timeout. */
export function connectTimeout(): HttpError {
  return new HttpError('UND_ERR_CONNECT_TIMEOUT', 'connect timeout');
}

/** No whole head within the headers timeout, counted from the request. */
export function headersTimeout(): HttpError {
  return new HttpError('UND_ERR_HEADERS_TIMEOUT', 'Headers Timeout Error');
}

/** A system call's failure as Node reports one (`read ECONNRESET`), from its errno (positive). */
export function systemError(errno: number, syscall: string): Error {
  const code = getSystemErrorName(-errno);
  return Object.assign(new Error(`${syscall} ${code}`), { code, errno: -errno, syscall });
}

/** No body bytes came for the body timeout. */
export function bodyTimeout(): HttpError {
  return new HttpError('UND_ERR_BODY_TIMEOUT', 'Body Timeout Error');
}
