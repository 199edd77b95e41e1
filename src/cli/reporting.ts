import type { ActiveTransfer } from '../engine/job-runner.js';
import { jsonReporter } from '../report/json.js';
import { plainReporter } from '../report/plain.js';
import { combine, type Reporter } from '../report/reporter.js';
import { RunStats } from '../report/run-stats.js';

export const PROGRESS_MODES = ['auto', 'bar', 'plain', 'none'] as const;
export type ProgressMode = (typeof PROGRESS_MODES)[number];

/** Non-terminal progress: a line at most this often. */
const PLAIN_PROGRESS_MS = 10_000;

export interface ReportingChoice {
  progress: ProgressMode;
  quiet: boolean;
  json: boolean;
  workers: number;
}

const lineTo = (stream: NodeJS.WriteStream) => (text: string) => void stream.write(`${text}\n`);

/**
 * Picks the renderers for a run: `--json` puts NDJSON on stdout; on stderr `--quiet` shows
 * problems only, a terminal gets bars, anything else plain lines.
 */
export async function createReporter(choice: ReportingChoice, active: Map<number, ActiveTransfer>): Promise<Reporter> {
  const stderr = process.stderr;
  const stats = new RunStats(active);
  const mode = choice.progress === 'auto' ? (choice.json ? 'none' : stderr.isTTY ? 'bar' : 'plain') : choice.progress;
  let human: Reporter;
  if (choice.quiet) {
    human = plainReporter(lineTo(stderr), stats, { progressEveryMs: 0, summary: false });
  } else if (mode === 'bar') {
    // A pseudo-terminal without a size reports 0 rows: treat it as unknown.
    const rows = Math.max(0, Math.min(choice.workers, (stderr.rows || 24) - 3, 8));
    // The terminal display (cli-progress, chalk) is loaded only when it is drawn.
    const [{ barReporter }, { colorFor }] = await Promise.all([import('../report/bar.js'), import('../report/color.js')]);
    human = barReporter(stats, { stream: stderr, rows, color: colorFor(stderr) });
  } else {
    human = plainReporter(lineTo(stderr), stats, { progressEveryMs: mode === 'plain' ? PLAIN_PROGRESS_MS : 0, summary: true });
  }
  return choice.json ? combine(jsonReporter(lineTo(process.stdout)), human) : human;
}
