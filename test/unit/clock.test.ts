import { describe, expect, it } from 'vitest';
import { monotonicMs } from '../../src/utils/clock.js';

describe('monotonicMs', () => {
  it('counts milliseconds, and never goes back', async () => {
    const start = monotonicMs();
    let last = start;
    for (let i = 0; i < 10_000; i++) {
      const now = monotonicMs();
      expect(now).toBeGreaterThanOrEqual(last);
      last = now;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    const elapsed = monotonicMs() - start;
    // Milliseconds: seconds would give 0.05, microseconds 50,000 (a busy machine may add a few seconds).
    expect(elapsed).toBeGreaterThanOrEqual(49);
    expect(elapsed).toBeLessThan(10_000);
  });
});
