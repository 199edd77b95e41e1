import type { Readable } from 'node:stream';

/**
 * Lets a response body go. undici reports the abort as an 'error' event; with no listener that
 * event would end the process, so one is added first.
 */
export function discard(body: Readable): void {
  body.on('error', () => undefined);
  body.destroy();
}
