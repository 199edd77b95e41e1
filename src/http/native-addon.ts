import { packageFile } from '../package-root.js';

/**
 * One of dl's native helpers (native/, built when dl is installed), by its path relative to the
 * package root; undefined where it was not built, or with DL_NATIVE=0 in the environment. Each
 * helper's module looks for it once a process.
 */
export function loadNativeAddon<T>(path: string): T | undefined {
  if (process.env.DL_NATIVE === '0') return undefined;
  try {
    // process.dlopen is what require does with a `.node` file, without node:module's loader.
    const addon = { exports: {} };
    process.dlopen(addon, packageFile(path));
    return addon.exports as T;
  } catch {
    // Not built here (no compiler at install), or built for another platform: JavaScript it is.
    return undefined;
  }
}

/** A time limit as the native helpers take it: milliseconds, 0 for none. */
export function limitMs(ms: number): number {
  return Number.isFinite(ms) && ms > 0 ? ms : 0;
}
