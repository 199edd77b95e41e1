import type { ActiveTransfers } from '../engine/job-runner.js';
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

/**
 * Lines to a standard stream, asked for at the first line: Node makes process.stderr and
 * process.stdout when first asked for (0.5 ms), which a quiet run that goes well never needs.
 */
const lineTo = (stream: () => NodeJS.WriteStream) => (text: string) => void stream().write(`${text}\n`);
export const stderrLines = lineTo(() => process.stderr);

/**
 * Picks the renderers for a run: `--json` puts NDJSON on stdout; on stderr `--quiet` shows
 * problems only, a terminal gets bars, anything else plain lines.
 */
export async function createReporter(choice: ReportingChoice, active: ActiveTransfers): Promise<Reporter> {
  const stats = new RunStats(active);
  const human = choice.quiet ? plainReporter(stderrLines, stats, { progressEveryMs: 0, summary: false }) : await talkative(choice, stats);
  return choice.json ? combine(jsonReporter(lineTo(() => process.stdout)), human) : human;
}

/** Bars on a terminal, plain lines anywhere else, or what `--progress` asks for. */
async function talkative(choice: ReportingChoice, stats: RunStats): Promise<Reporter> {
  const stderr = process.stderr;
  const mode = choice.progress === 'auto' ? (choice.json ? 'none' : stderr.isTTY ? 'bar' : 'plain') : choice.progress;
  if (mode === 'bar') {
    // A pseudo-terminal without a size reports 0 rows: treat it as unknown.
    const rows = Math.max(0, Math.min(choice.workers, (stderr.rows || 24) - 3, 8));
    // The terminal display (cli-progress, chalk) is loaded only when it is drawn.
    const [{ barReporter }, { colorFor }] = await Promise.all([import('../report/bar.js'), import('../report/color.js')]);
    return barReporter(stats, { stream: stderr, rows, color: colorFor(stderr) });
  }
  return plainReporter(stderrLines, stats, { progressEveryMs: mode === 'plain' ? PLAIN_PROGRESS_MS : 0, summary: true });
}
