import type { RunSummary } from '../engine/events.js';

export const EXIT = {
  ok: 0,
  /** Some job failed, an input line was rejected, or the run stopped on a local error. */
  failed: 1,
  /** Usage error, or the run could not start (joblog locked, folder not writable). */
  usage: 2,
  sigint: 130,
  sigterm: 143,
} as const;

export function exitCodeFor(summary: RunSummary, interruptedBy: 'SIGINT' | 'SIGTERM' | undefined): number {
  if (summary.fatal) return EXIT.failed;
  if (summary.interrupted) return interruptedBy === 'SIGTERM' ? EXIT.sigterm : EXIT.sigint;
  if (summary.failed > 0 || summary.rejected > 0 || summary.pending > 0) return EXIT.failed;
  return EXIT.ok;
}
