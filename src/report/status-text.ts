import type { StatusReport } from '../joblog/status.js';
import { formatBytes, formatDuration } from '../utils/format.js';

/** `dl --status` for a person. */
export function renderStatus(report: StatusReport, now = Date.now()): string {
  const age = now - Date.parse(report.lastWrite);
  const rows: Array<[string, string]> = [
    ['joblog', report.joblog],
    ['jobs', `${report.jobs}${report.resolved ? ' (inputs read to the end)' : ' so far (inputs not read to the end yet)'}`],
    ['done', `${report.done}  (${formatBytes(report.bytes)})`],
    ['failed', String(report.failed)],
    ['pending', String(report.pending)],
    runningRow(report),
    ['last write', `${report.lastWrite} (${age < 1000 ? 'just now' : `${formatDuration(age)} ago`})`],
  ];
  if (report.badLines > 0) rows.push(['bad lines', `${report.badLines} (skipped)`]);
  const width = Math.max(...rows.map(([key]) => key.length));
  const lines = rows.map(([key, value]) => `${key.padEnd(width)}  ${value}`);
  if (report.failures.length > 0) {
    lines.push('', 'failures by reason:');
    const countWidth = Math.max(...report.failures.map((group) => String(group.count).length));
    for (const group of report.failures) {
      lines.push(`  ${String(group.count).padStart(countWidth)}  ${group.code}: ${group.error}`);
      for (const url of group.examples) lines.push(`  ${' '.repeat(countWidth)}    ${url}`);
      if (group.count > group.examples.length) lines.push(`  ${' '.repeat(countWidth)}    ... and ${group.count - group.examples.length} more`);
    }
  }
  return lines.join('\n');
}

/** Jobs under way while a run holds the joblog; without one, those it left are interrupted. */
function runningRow({ running, heldBy }: StatusReport): [string, string] {
  if (heldBy) return ['running', `${running} (dl pid ${heldBy.pid}${heldBy.host ? ` on ${heldBy.host}` : ''} holds the joblog)`];
  if (running > 0) return ['interrupted', `${running} (no dl holds the joblog; the same command resumes them)`];
  return ['running', '0 (no dl holds the joblog)'];
}
