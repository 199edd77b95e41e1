/** Defaults shared by the library and the CLI's help text. */
export const DEFAULTS = {
  workers: 8,
  perHost: 4,
  perSite: 8,
  maxRedirections: 10,
  /** Most jobs alive as promises at once. */
  window: 4096,
  /** Most live jobs per host before further ones are parked as numbers. */
  hostBacklog: 64,
} as const;

/** Name of the joblog kept in the destination folder when no `--joblog` is given. */
export const DEFAULT_JOBLOG_NAME = '.dl-joblog.jsonl';
