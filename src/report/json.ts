import type { DlEvent } from '../engine/events.js';
import type { Reporter } from './reporter.js';

/** Events scripts care about; the others are internal detail. */
const PUBLISHED = new Set<DlEvent['type']>(['start', 'retry', 'done', 'fail', 'input-error', 'fatal', 'summary']);

/** NDJSON on stdout: one event per line, each job event with its seq and (redacted) URL. */
export function jsonReporter(write: (line: string) => void): Reporter {
  return {
    onEvent(event) {
      if (!PUBLISHED.has(event.type)) return;
      write(JSON.stringify({ ...event, ts: new Date().toISOString() }));
    },
    close() {},
  };
}
