/** The library: everything the CLI does is reachable from here without spawning a process. */
export { run, type RunOptions } from './run.js';
export { failedUrls, status, type FailureGroup, type StatusReport } from './joblog/status.js';
export type { DlEvent, EventListener, RunSummary } from './engine/events.js';
export type { ActiveTransfer, ActiveTransfers } from './engine/job-runner.js';
export { SlotArray } from './utils/slot-array.js';
export type { RetryPolicy } from './engine/retry-policy.js';
export * from './errors/errors.js';
export type * from './joblog/records.js';
export { DEFAULTS, DEFAULT_JOBLOG_NAME, defaultJoblog } from './options.js';
export { VERSION } from './version.js';
