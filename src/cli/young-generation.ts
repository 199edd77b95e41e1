import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { tunable } from './v8-flag.js';

/**
 * V8's young generation held at 8 MB (docs/architecture.md, "The young generation held at 8 MB").
 *
 * V8 doubles the young generation each time enough has survived since it last grew, up to
 * 2 x 16 MB on 64-bit machines, and a long run always gets there: the peak RSS of 100,000 tiny
 * files was 1.45-1.5 times that of 10,000, with that growth the largest part of the difference.
 * dl's garbage is short-lived (a job's objects), and a run of 100,000 tiny files took no longer
 * with 2 x 4 MB. Node takes the size only on its command line (`--max-semi-space-size`), which a
 * program started as `dl` cannot give itself, so growth is stopped once the space has reached it.
 *
 * The growth factor is one of the flags V8 checks before accepting a code cache: like the
 * interrupt budget (optimise-later.ts), it is set back before the cache is saved. Only under the
 * V8 this was measured with (see v8-flag.ts).
 */
const CAP_BYTES = 8 << 20;
const CHECK_MS = 100;
/** V8's default: the young generation doubles. */
const DEFAULT_GROWTH = 2;

export interface YoungGenerationCap {
  /** Stops the growth if the young generation has reached the cap (what the timer does every 100 ms). */
  check(): void;
  /** Sets V8's growth back to its default, as the code cache was read under. */
  asAtStart(): void;
}

export function capYoungGeneration(capBytes: number = CAP_BYTES): YoungGenerationCap {
  // A young generation sized on Node's command line is left as it is.
  if (!tunable('--max-semi-space-size', '--min-semi-space-size', '--semi-space-growth-factor')) return { check: () => undefined, asAtStart: () => undefined };
  let stopped = false;
  const check = (): void => {
    if (stopped || newSpaceBytes() < capBytes) return;
    setFlagsFromString('--semi-space-growth-factor=1');
    stopped = true;
    clearInterval(timer);
  };
  // Not keeping the process alive.
  const timer = setInterval(check, CHECK_MS).unref();
  return {
    check,
    asAtStart() {
      clearInterval(timer);
      if (stopped) setFlagsFromString(`--semi-space-growth-factor=${DEFAULT_GROWTH}`);
    },
  };
}

function newSpaceBytes(): number {
  for (const space of getHeapSpaceStatistics()) if (space.space_name === 'new_space') return space.space_size;
  return 0;
}
