import type { DlEvent } from '../engine/events.js';
import { overallLine, problemLine, summaryLine } from './lines.js';
import type { Reporter } from './reporter.js';
import type { RunStats } from './run-stats.js';

export interface PlainOptions {
  /** Print a progress line this often (0: never). */
  progressEveryMs: number;
  /** Print the summary at the end. */
  summary: boolean;
}

/**
 * For logs, pipes and CI: whole lines only, no escape codes. Problems as they happen, a progress
 * line at most every `progressEveryMs`, and the summary. `--quiet` is this with neither.
 */
export function plainReporter(write: (line: string) => void, stats: RunStats, options: PlainOptions): Reporter {
  const timer =
    options.progressEveryMs > 0
      ? setInterval(() => {
          stats.sample();
          write(`dl: ${overallLine(stats)}`);
        }, options.progressEveryMs).unref()
      : undefined;
  return {
    onEvent(event: DlEvent) {
      stats.apply(event);
      const problem = problemLine(event);
      if (problem) write(problem);
      if (event.type === 'summary' && options.summary) write(summaryLine(event.summary));
    },
    close() {
      if (timer) clearInterval(timer);
    },
  };
}
