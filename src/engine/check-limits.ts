import { UsageError } from '../errors/errors.js';

/** The limits of a run (RunOptions), each a whole number of at least 1. */
export interface RunLimits {
  workers?: number;
  perHost?: number;
  perSite?: number;
  /** Limits by `hostname:port` or bare hostname. */
  hostLimits?: ReadonlyMap<string, number>;
  siteLimits?: ReadonlyMap<string, number>;
}

/**
 * Limits given to run() must be whole numbers of at least 1: a 0 (or a fraction, or NaN from a
 * careless parse) would leave every job waiting for a slot that never comes. The CLI checks its
 * options as it parses them; this is for callers of the library.
 */
export function checkLimits(options: RunLimits): void {
  const check = (what: string, value: number | undefined): void => {
    if (value === undefined || (Number.isSafeInteger(value) && value >= 1)) return;
    throw new UsageError(`${what} must be a whole number of at least 1 (got ${String(value)})`);
  };
  check('workers', options.workers);
  check('perHost', options.perHost);
  check('perSite', options.perSite);
  for (const [host, limit] of options.hostLimits ?? []) check(`hostLimits for ${host}`, limit);
  for (const [site, limit] of options.siteLimits ?? []) check(`siteLimits for ${site}`, limit);
}
