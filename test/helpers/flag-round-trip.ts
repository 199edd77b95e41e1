import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect } from 'vitest';

/** The CommonJS build bin/dl.cjs runs (built by the global setup). */
export const START_UP = resolve('dist/cli/start-up.cjs');

/**
 * A module in `dir` loaded through V8's code cache as bin/dl.cjs loads the CLI, by a fresh Node
 * process each `run`: `start` (an expression of start-up.cjs's exports) changes V8's flags before
 * the load, its `change` method changes them again as a long run does, and, if `setBack`, its
 * `asAtStart()` sets them back before the cache is saved. `run` says whether the cache was used.
 */
export function flagRoundTrip(dir: string, start: string, change: string): { cache: string; run(setBack: boolean): boolean } {
  const file = join(dir, 'bundle.cjs');
  writeFileSync(file, 'exports.value = () => 42;\n');
  const cache = join(dir, 'cache');
  const run = (setBack: boolean): boolean =>
    JSON.parse(
      execFileSync(
        process.execPath,
        [
          '-e',
          `const { capYoungGeneration, optimiseLater, requireWithCodeCache } = require(${JSON.stringify(START_UP)});
          const handle = ${start};
          const loaded = requireWithCodeCache(${JSON.stringify(file)}, ${JSON.stringify(cache)});
          handle.${change}();
          if (${setBack}) handle.asAtStart();
          loaded.save(100);
          console.log(JSON.stringify(loaded.fromCache));`,
        ],
        { encoding: 'utf8' },
      ),
    ) as boolean;
  return { cache, run };
}

/**
 * A cache saved without setting the flags back is one the next run cannot use: it compiles anew
 * and writes the cache again, which the run after it uses.
 */
export function expectRejectedUnlessSetBack({ cache, run }: ReturnType<typeof flagRoundTrip>): void {
  rmSync(cache, { recursive: true });
  expect(run(false)).toBe(false);
  expect(run(true)).toBe(false);
  expect(run(true)).toBe(true);
}
