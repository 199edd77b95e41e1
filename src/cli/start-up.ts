import { optimiseLater } from './optimise-later.js';
import { capYoungGeneration } from './young-generation.js';

/**
 * What bin/dl.cjs runs before the CLI: one small CommonJS file of its own (scripts/bundle.js,
 * `dist/cli/start-up.cjs`), so that a run never starts Node's ES module loader.
 */
export { requireWithCodeCache } from './code-cache.js';
export { monotonicMs } from '../utils/clock.js';
export { capYoungGeneration, optimiseLater };

/** dl's settings of V8 for a run, made together before the code cache is read. */
export interface RunV8 {
  /** The optimising compiler as by default from now on (optimise-later.ts). */
  optimiseNow(): void;
  /** Every flag as the code cache was read under, for it to be saved under them. */
  asAtStart(): void;
}

/** V8's optimising compiler held back for the first second, and its young generation held at 8 MB. */
export function tuneV8(): RunV8 {
  const optimising = optimiseLater();
  const youngGeneration = capYoungGeneration();
  return {
    optimiseNow: optimising.optimiseNow,
    asAtStart() {
      optimising.asAtStart();
      youngGeneration.asAtStart();
    },
  };
}
