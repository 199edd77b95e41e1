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

/** What a non-zero exit code means for this run, in a sentence; undefined for 0. */
export function exitMeaning(code: number, summary: RunSummary, joblog: string | undefined): string | undefined {
  const status = `dl ${joblog ? `--joblog ${joblog} ` : ''}--status`;
  switch (code) {
    case EXIT.ok:
      return undefined;
    case EXIT.sigint:
    case EXIT.sigterm:
      return `exit code ${code}: interrupted; run the same command again to finish the ${summary.pending} pending job(s)`;
    default: {
      if (summary.fatal) return `exit code ${code}: stopped: ${summary.fatal.error}; fix it and run the same command again`;
      const reasons: string[] = [];
      if (summary.failed > 0) reasons.push(`${summary.failed} job(s) failed (${status} --failed lists them)`);
      if (summary.rejected > 0) reasons.push(`${summary.rejected} input line(s) were rejected`);
      if (summary.pending > 0) reasons.push(`${summary.pending} job(s) are still pending`);
      return `exit code ${code}: ${reasons.join('; ')}`;
    }
  }
}

export function exitCodeFor(summary: RunSummary, interruptedBy: 'SIGINT' | 'SIGTERM' | undefined, dryRun = false): number {
  if (summary.fatal) return EXIT.failed;
  if (summary.interrupted) return interruptedBy === 'SIGTERM' ? EXIT.sigterm : EXIT.sigint;
  // A dry run leaves every job pending by design.
  if (summary.failed > 0 || summary.rejected > 0 || (summary.pending > 0 && !dryRun)) return EXIT.failed;
  return EXIT.ok;
}
