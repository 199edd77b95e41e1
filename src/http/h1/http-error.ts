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
