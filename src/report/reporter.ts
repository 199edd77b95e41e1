import type { DlEvent } from '../engine/events.js';

/** Renders a run's events; `close` stops timers and gives the terminal back. */
export interface Reporter {
  onEvent(event: DlEvent): void;
  close(): void;
}

/** Several reporters as one (for example NDJSON on stdout and problems on stderr). */
export function combine(...reporters: Reporter[]): Reporter {
  return {
    onEvent: (event) => reporters.forEach((r) => r.onEvent(event)),
    close: () => reporters.forEach((r) => r.close()),
  };
}
