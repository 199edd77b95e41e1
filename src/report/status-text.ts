import type { StatusReport } from '../joblog/status.js';
import { formatBytes } from './format.js';

/** `dl --status` for a person. */
export function renderStatus(report: StatusReport): string {
  const rows: Array<[string, string]> = [
    ['joblog', report.joblog],
    ['jobs', String(report.jobs)],
    ['done', String(report.done)],
    ['failed', String(report.failed)],
    ['pending', String(report.pending)],
    ['bytes', `${formatBytes(report.bytes)} (${report.bytes})`],
    ['inputs', report.resolved ? 'read to the end' : 'not read to the end yet'],
    ['last write', report.lastWrite],
  ];
  if (report.badLines > 0) rows.push(['bad lines', String(report.badLines)]);
  const width = Math.max(...rows.map(([key]) => key.length));
  return rows.map(([key, value]) => `${key.padEnd(width)}  ${value}`).join('\n');
}
