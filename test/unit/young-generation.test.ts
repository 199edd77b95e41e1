import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { withTempDir } from '../helpers/cli.js';
import { expectRejectedUnlessSetBack, flagRoundTrip, START_UP } from '../helpers/flag-round-trip.js';
import { measuredV8 } from '../../src/cli/v8-flag.js';

// Each check runs in a Node process of its own: V8's flags and heap are the process's.

function inNode(script: string, flags: string[] = []): unknown {
  const prelude = `const { capYoungGeneration, requireWithCodeCache } = require(${JSON.stringify(START_UP)});\nconst v8 = require('node:v8');\n`;
  return JSON.parse(execFileSync(process.execPath, [...flags, '-e', prelude + script], { encoding: 'utf8' }));
}

/** The largest the young generation got while objects that live a little while (as a run's jobs do) were made. */
function largestYoungGeneration(capBytes: number, flags: string[] = []): number {
  return inNode(`
    const cap = capYoungGeneration(${capBytes});
    const newSpace = () => v8.getHeapSpaceStatistics().find((space) => space.space_name === 'new_space').space_size;
    // The last 100,000 objects kept: each survives a scavenge or two, which makes V8 grow the space.
    const ring = new Array(100_000);
    let largest = 0;
    for (let i = 0; i < 6_000_000; i++) {
      ring[i % ring.length] = { i, s: 'x' + i };
      if (i % 10_000 === 0) {
        cap.check();
        largest = Math.max(largest, newSpace());
      }
    }
    console.log(largest);`, flags) as number;
}

const MiB = 1 << 20;
/** The V8 whose young generation capYoungGeneration holds (src/cli/v8-flag.ts). */
const applies = measuredV8();

describe('capYoungGeneration', () => {
  it.skipIf(applies)('leaves a V8 it was not measured under as it is', () => {
    expect(largestYoungGeneration(8 * MiB)).toBeGreaterThan(8 * MiB);
  });

  it.runIf(applies)('stops the young generation growing once it has reached the cap; without one V8 takes it to 32 MB', () => {
    expect(largestYoungGeneration(8 * MiB)).toBeLessThanOrEqual(8 * MiB);
    expect(largestYoungGeneration(1024 * MiB)).toBeGreaterThan(16 * MiB);
  });

  it.runIf(applies)('leaves a young generation sized on the command line as it is', () => {
    expect(largestYoungGeneration(8 * MiB, ['--max_semi_space_size=16'])).toBeGreaterThan(16 * MiB);
  });

  it('keeps the code cache usable: the growth is set back before it is saved', async () => {
    await withTempDir(async (dir) => {
      // A cap the young generation has reached at start (1 MB), so the growth stops at once.
      const roundTrip = flagRoundTrip(dir, `capYoungGeneration(${MiB})`, 'check');
      expect(roundTrip.run(true)).toBe(false);
      expect(roundTrip.run(true)).toBe(true);
      // Saved with the growth stopped.
      if (applies) expectRejectedUnlessSetBack(roundTrip);
    });
  });
});
