import type { DlEvent, RunSummary } from '../engine/events.js';
import { formatBytes, formatDuration, formatSpeed } from '../utils/format.js';
import type { RunStats } from './run-stats.js';

/**
 * The sentences dl says, shared by every renderer, so that a failure reads the same in a log
 * file, above a progress bar and in a terminal.
 */

/** A line for events a person must see even in --quiet mode; undefined for the others. */
export function problemLine(event: DlEvent): string | undefined {
  switch (event.type) {
    case 'input-error':
    case 'input-warning':
      return `${event.src}: ${event.reason}`;
    case 'fail':
      return `failed: ${event.url}: ${event.error} [${event.code}]`;
    case 'fatal':
      return `dl: stopping: ${event.error}`;
    case 'joblog-repaired':
      return `dl: ${event.joblog} ended in a torn line (a run died mid-write); dropped ${event.droppedBytes} bytes`;
    case 'joblog-bad-lines':
      return `dl: ${event.joblog} has ${event.count} unreadable line(s); they were skipped`;
    default:
      return undefined;
  }
}

/** The overall state in one line: files done of total, bytes, speed, ETA, failures, retries. */
export function overallLine(stats: RunStats): string {
  const total = stats.resolved ? `${stats.jobs}` : `${stats.jobs}+`;
  const parts = [`${stats.finished - stats.failed}/${total} files`, formatBytes(stats.bytes()), formatSpeed(stats.speed())];
  const eta = stats.etaMs();
  if (eta !== undefined) parts.push(`ETA ${formatDuration(eta)}`);
  if (stats.failed > 0) parts.push(`${stats.failed} failed`);
  if (stats.retryWaiting > 0) parts.push(`${stats.retryWaiting} waiting to retry`);
  return parts.join('  ');
}

/** The summary every run ends with. */
export function summaryLine(summary: RunSummary): string {
  const seconds = summary.durationMs / 1000;
  const speed = seconds > 0 ? summary.bytesThisRun / seconds : 0;
  const counts = [`${summary.doneThisRun} done`, `${summary.failedThisRun} failed`, `${summary.skipped} skipped (finished before)`];
  if (summary.rejected > 0) counts.push(`${summary.rejected} input line(s) rejected`);
  if (summary.pending > 0) counts.push(`${summary.pending} pending`);
  return `dl: ${counts.join(', ')}; ${formatBytes(summary.bytesThisRun)} in ${formatDuration(summary.durationMs)} (${formatSpeed(speed)})${summary.interrupted ? '; interrupted' : ''}`;
}
