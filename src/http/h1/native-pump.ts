import { loadNativeAddon } from '../native-addon.js';

/**
 * dl's native body pump (native/pump.c): moves the rest of a big body from a connection's socket
 * to its `.part` file on a thread of its own, so that those bytes never enter JavaScript and the
 * main thread is free while they flow. Built when dl is installed, where node-gyp can build it;
 * without it, or with DL_NATIVE=0 in the environment, every body is moved in JavaScript.
 */
export interface NativePump {
  /**
   * Moves `length` bytes from `socketFd` to `fileFd`; `state[0]` follows the bytes moved, and
   * setting `state[1]` to 1 stops it. `done` comes once the thread will touch neither descriptor
   * again: errno 0 when all bytes were moved, -1 when the server closed first, ETIMEDOUT after
   * `silenceMs` without a byte (0: no limit), ECANCELED when stopped; `writing` tells a write's
   * error from a read's.
   */
  pump(
    socketFd: number,
    fileFd: number,
    length: number,
    silenceMs: number,
    state: Float64Array,
    done: (errno: number, moved: number, writing: boolean) => void,
  ): void;
}

/** What the controller of a request on dl's own connections offers for its body (connection.ts). */
export interface Pumping {
  /** Body bytes still to come that the pump could move; 0 when it cannot. */
  pumpable(): number;
  /**
   * Those bytes into the file `fd`, `state` as for NativePump.pump; the request then ends as
   * usual. False when the pump could not start: the body then goes on as before.
   */
  pump(fd: number, state: Float64Array): boolean;
}

/** Bodies and bytes the pump has moved in this process (for reports, and for tests to tell it was used). */
export const pumped = { bodies: 0, bytes: 0 };

/** The built addon, relative to the package root. */
export const PUMP_ADDON = 'native/build/Release/pump.node';
let loaded: NativePump | null | undefined;

/** The native pump, if it was built and is not turned off; looked for once a process. */
export function nativePump(): NativePump | undefined {
  if (loaded === undefined) loaded = loadNativeAddon<NativePump>(PUMP_ADDON) ?? null;
  return loaded ?? undefined;
}
