import { setFlagsFromString } from 'node:v8';
import { tunable } from './v8-flag.js';

/**
 * V8's optimising compiler held back for the first second of a run (docs/architecture.md,
 * "Optimising after the first second").
 *
 * TurboFan compiles a function once it has run a set amount of bytecode (the interrupt budget,
 * three times over). In a run of 5,000 small files that is 60-70 of dl's functions, 0.2-0.3 s
 * of CPU on V8's helper threads in a run of half a second, on two cores that dl's own threads
 * and the server already fill; the run ends before the faster code pays for it. A long run
 * does pay for it, so the budget is raised eightfold for the first second only, then set back.
 * The hottest functions are still optimised early. 5,000 x 16 KiB: 0.46 against 0.54 s; 100,000
 * tiny files: 4.39 against 4.30 s, with the same CPU time (alternating runs, two cores).
 *
 * `--status` and `--dry-run` download nothing, so their time is all JavaScript's: main() has
 * them optimise at once (`optimiseNow`).
 *
 * Only under the V8 whose default budget is known (11.3, Node 20's): a flag can be set but not
 * read, so setting it back means knowing what it was. Node 22 and 24 tier up through Maglev first,
 * whose compiles cost far less, with budgets of their own; their V8 is left as it is. So is a V8
 * whose budget was set on the command line.
 */
const DEFAULT_BUDGET = 67_584;
const FACTOR = 8;
export const OPTIMISE_AFTER_MS = 1000;

export interface LateOptimising {
  /** Lets V8 optimise as it would by default from now on (what the timer does after a second). */
  optimiseNow(): void;
  /**
   * Holds the optimising compiler back again, as at the start. V8 accepts a code cache only under
   * the flags it was made with, and the budget is one of them: the cache is read under the
   * raised budget, so it is written under it too (bin/dl.cjs calls this before saving).
   */
  asAtStart(): void;
}

const NOTHING: LateOptimising = { optimiseNow: () => undefined, asAtStart: () => undefined };

export function optimiseLater(afterMs: number = OPTIMISE_AFTER_MS): LateOptimising {
  if (!tunable('--interrupt-budget')) return NOTHING;
  const raised = `--interrupt-budget=${DEFAULT_BUDGET * FACTOR}`;
  setFlagsFromString(raised);
  const optimiseNow = (): void => {
    clearTimeout(timer);
    setFlagsFromString(`--interrupt-budget=${DEFAULT_BUDGET}`);
  };
  // Not keeping the process alive: a run that ends sooner exits at once.
  const timer = setTimeout(optimiseNow, afterMs).unref();
  return {
    optimiseNow,
    asAtStart() {
      clearTimeout(timer);
      setFlagsFromString(raised);
    },
  };
}
