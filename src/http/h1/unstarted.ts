import type { Dispatcher } from 'undici';
import { HttpError } from './http-error.js';

/** The controller of a request that never got to a connection: nothing to abort, pause or resume. */
const NEVER_STARTED: Dispatcher.DispatchController = { aborted: false, paused: false, reason: null, abort() {}, pause() {}, resume() {} };

/** Tells the handler of a request that never got to a connection that it failed. */
export function failUnstarted(handler: Dispatcher.DispatchHandler, error: Error): void {
  handler.onResponseError?.(NEVER_STARTED, error);
}

/** What a request gets from a destroyed dispatcher, with undici's code for it. */
export function destroyedError(): HttpError {
  return new HttpError('UND_ERR_DESTROYED', 'the dispatcher was destroyed');
}
