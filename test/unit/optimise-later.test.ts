import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { withTempDir } from '../helpers/cli.js';
import { expectRejectedUnlessSetBack, flagRoundTrip, START_UP } from '../helpers/flag-round-trip.js';
import { measuredV8 } from '../../src/cli/v8-flag.js';

// Each check runs in a Node process of its own: the flags it sets are the process's.

/** Where the budget's default is known and optimiseLater changes it (see the module). */
const applies = measuredV8();

function inNode(script: string, flags: string[] = []): unknown {
  return JSON.parse(execFileSync(process.execPath, [...flags, '-e', `const { optimiseLater, requireWithCodeCache } = require(${JSON.stringify(START_UP)});\n${script}`], { encoding: 'utf8' }));
}

/**
 * How many calls a fresh function takes, at each stage, before V8 marks it for TurboFan (or has
 * it optimised already): a count of bytecode run, not of time, so the same on a busy machine.
 */
function callsToOptimise(flags: string[] = []): { before: number; held: number; after: number } {
  return inNode(
    `
    // Optimised, marked for it, or being compiled (V8's OptimizationStatus bits 4, 8, 9 and 10).
    const ON_ITS_WAY = (1 << 4) | (1 << 8) | (1 << 9) | (1 << 10);
    let made = 0;
    function callsUntilMarked() {
      // A source of its own each time: the same source would share what V8 compiled for it.
      const f = new Function('x', 'return (x * 3 + (x >> 1)) ^ (x & ' + ++made + ');');
      for (let calls = 1; calls < 50_000_000; calls++) {
        f(calls);
        if (calls % 64 === 0 && (%GetOptimizationStatus(f) & ON_ITS_WAY)) return calls;
      }
      return Infinity;
    }
    const before = callsUntilMarked();
    const later = optimiseLater(60_000);
    const held = callsUntilMarked();
    later.optimiseNow();
    const after = callsUntilMarked();
    console.log(JSON.stringify({ before, held, after }));`,
    ['--allow-natives-syntax', ...flags],
  ) as { before: number; held: number; after: number };
}

describe('optimiseLater', () => {
  it.runIf(applies)('holds TurboFan back until optimiseNow, then lets V8 optimise as it does by default', () => {
    const { before, held, after } = callsToOptimise();
    expect(before).toBeLessThan(1_000_000);
    // An eightfold budget: the same function needs about eight times the calls.
    expect(held).toBeGreaterThan(5 * before);
    expect(held).toBeLessThan(12 * before);
    expect(after).toBeGreaterThan(before / 2);
    expect(after).toBeLessThan(2 * before);
  });

  it.runIf(applies)('leaves a budget set on the command line as it is, in either spelling, but not for a longer flag of the same prefix', () => {
    for (const flag of ['--interrupt-budget=67584', '--interrupt_budget=67584']) {
      const { before, held } = callsToOptimise([flag]);
      expect(held, flag).toBeLessThan(2 * before);
    }
    const { before, held } = callsToOptimise(['--interrupt-budget-for-feedback-allocation=940']);
    expect(held).toBeGreaterThan(5 * before);
  });

  it.skipIf(applies)('leaves a V8 whose default budget it does not know as it is', () => {
    const { before, held, after } = callsToOptimise();
    expect(held).toBeLessThan(2 * before);
    expect(after).toBeLessThan(2 * before);
  });

  it('keeps the code cache usable: a run saves it under the flags it was read under, even after optimising began', async () => {
    await withTempDir(async (dir) => {
      // As bin/dl.cjs does in a run longer than the first second, with or without setting the
      // flags back before saving.
      const roundTrip = flagRoundTrip(dir, 'optimiseLater()', 'optimiseNow');
      const { cache, run } = roundTrip;
      expect(run(true)).toBe(false);
      expect(readdirSync(cache).filter((name) => name.endsWith('.v8'))).toHaveLength(1);
      expect(run(true)).toBe(true);
      expect(run(true)).toBe(true);
      // What asAtStart is for: a cache saved under the default budget.
      if (applies) expectRejectedUnlessSetBack(roundTrip);
    });
  });
});
