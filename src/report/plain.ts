import type { DlEvent } from '../engine/events.js';
import { formatBytes, formatDuration } from './format.js';

/**
 * Renders events as plain lines for logs and pipes: rejected input lines, failures, joblog
 * repairs, and a summary at the end. No escape codes. `write` receives whole lines.
 */
export function plainReporter(write: (line: string) => void): (event: DlEvent) => void {
  return (event) => {
    switch (event.type) {
      case 'input-error':
        write(`${event.src}: ${event.reason}`);
        return;
      case 'fail':
        write(`failed: ${event.url}: ${event.error} [${event.code}]`);
        return;
      case 'fatal':
        write(`dl: stopping: ${event.error}`);
        return;
      case 'joblog-repaired':
        write(`dl: ${event.joblog} ended in a torn line (a run died mid-write); dropped ${event.droppedBytes} bytes`);
        return;
      case 'joblog-bad-lines':
        write(`dl: ${event.joblog} has ${event.count} unreadable line(s); they were skipped`);
        return;
      case 'summary': {
        const s = event.summary;
        const parts = [
          `${s.doneThisRun} downloaded (${formatBytes(s.bytesThisRun)})`,
          `${s.failedThisRun} failed`,
          `${s.skipped} already finished`,
        ];
        if (s.rejected > 0) parts.push(`${s.rejected} input line(s) rejected`);
        if (s.pending > 0) parts.push(`${s.pending} pending`);
        write(`dl: ${parts.join(', ')} in ${formatDuration(s.durationMs)}${s.interrupted ? ' (interrupted)' : ''}`);
        return;
      }
      default:
        return;
    }
  };
}
