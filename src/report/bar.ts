import { MultiBar, type SingleBar } from 'cli-progress';
import type { ChalkInstance } from 'chalk';
import type { DlEvent } from '../engine/events.js';
import type { ActiveTransfer } from '../engine/job-runner.js';
import { formatBytes } from '../utils/format.js';
import { overallLine, problemLine, summaryLine } from './lines.js';
import type { Reporter } from './reporter.js';
import type { RunStats } from './run-stats.js';

export interface BarOptions {
  stream: NodeJS.WriteStream;
  /** Most rows for single downloads (below the overall line). */
  rows: number;
  color: ChalkInstance;
}

/** Line text is carried in the payload; the format only prints it. */
interface Line {
  text: string;
}

/**
 * For a terminal: one overall line and up to `rows` rows of downloads under way, reused as
 * downloads come and go, plus "+N more". Redrawn at most 10 times a second by cli-progress;
 * problems print above the bars; the cursor comes back on close.
 */
export function barReporter(stats: RunStats, options: BarOptions): Reporter {
  const { stream, color } = options;
  const multibar = new MultiBar({
    stream,
    fps: 10,
    hideCursor: true,
    linewrap: false,
    clearOnComplete: false,
    stopOnComplete: false,
    gracefulExit: false,
    autopadding: false,
    format: (_options, _params, payload: Line) => payload.text,
  });
  const overall = multibar.create(1, 0, { text: '' } satisfies Line);
  const rows: Array<{ bar: SingleBar; seq: number | undefined }> = [];
  let more: SingleBar | undefined;
  let closed = false;

  const width = (): number => Math.max(20, (stream.columns || 80) - 1);
  const fit = (text: string): string => (text.length > width() ? `${text.slice(0, width() - 1)}…` : text);

  multibar.on('update-pre', () => {
    stats.sample();
    overall.update(0, { text: fit(color.bold(overallLine(stats))) } satisfies Line);
    layoutRows();
  });

  /** Keeps each transfer on the row it got, fills free rows with new ones, counts the rest. */
  function layoutRows(): void {
    const active = new Map<number, ActiveTransfer>();
    for (const transfer of stats.active.values()) active.set(transfer.seq, transfer);
    for (const row of rows) if (row.seq !== undefined && !active.has(row.seq)) row.seq = undefined;
    const shown = new Set(rows.map((row) => row.seq));
    let hidden = 0;
    for (const seq of active.keys()) {
      if (shown.has(seq)) continue;
      let row = rows.find((r) => r.seq === undefined);
      if (!row && rows.length < options.rows) {
        row = { bar: multibar.create(1, 0, { text: '' } satisfies Line), seq: undefined };
        rows.push(row);
      }
      if (row) row.seq = seq;
      else hidden++;
    }
    for (const row of rows) {
      const transfer = row.seq === undefined ? undefined : active.get(row.seq);
      row.bar.update(0, { text: transfer ? fit(rowText(transfer, color)) : '' } satisfies Line);
    }
    if (hidden > 0) {
      more ??= multibar.create(1, 0, { text: '' } satisfies Line);
      more.update(0, { text: color.dim(`  +${hidden} more`) } satisfies Line);
    } else if (more) {
      multibar.remove(more);
      more = undefined;
    }
  }

  const close = (): void => {
    if (closed) return;
    closed = true;
    multibar.update();
    multibar.stop();
  };

  return {
    onEvent(event: DlEvent) {
      stats.apply(event);
      const problem = problemLine(event);
      if (problem) multibar.log(`${event.type === 'fail' || event.type === 'fatal' ? color.red(problem) : color.yellow(problem)}\n`);
      if (event.type === 'summary') {
        close();
        stream.write(`${color.bold(summaryLine(event.summary))}\n`);
      }
    },
    close,
  };
}

function rowText(transfer: ActiveTransfer, color: ChalkInstance): string {
  const { bytes, total } = transfer.progress;
  const name = transfer.url.slice(transfer.url.lastIndexOf('/') + 1) || transfer.url;
  if (total === undefined || total === 0) return `  ${color.cyan(name)}  ${formatBytes(bytes)}`;
  const share = Math.min(1, bytes / total);
  const cells = 20;
  const filled = Math.round(share * cells);
  const bar = `${'█'.repeat(filled)}${'░'.repeat(cells - filled)}`;
  return `  ${bar} ${String(Math.floor(share * 100)).padStart(3)}%  ${color.cyan(name)}  ${formatBytes(bytes)} of ${formatBytes(total)}`;
}
