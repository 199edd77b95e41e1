import { describe, expect, it } from 'vitest';
import { createRetryPolicy, parseRetryAfter } from '../../src/engine/retry-policy.js';
import { BodyLengthError, HttpStatusError, LocalError, NetworkError, TimeoutError } from '../../src/errors/errors.js';

const policy = (random = () => 0.999999, now = () => 1_000_000) =>
  createRetryPolicy({ retries: 5, baseMs: 1000, capMs: 60_000, maxRetryAfterMs: 300_000, random, now });

describe('createRetryPolicy', () => {
  it('retries transient failures with full jitter under an exponential ceiling capped at 60 s', () => {
    const p = policy();
    const ceilings = [1, 2, 3, 4, 5].map((attempt) => {
      const d = p.decide(attempt, new HttpStatusError(503, 'Service Unavailable'));
      if (!d.retry) throw new Error('expected a retry');
      return Math.round(d.delayMs);
    });
    expect(ceilings).toEqual([1000, 2000, 4000, 8000, 16000]);
    const late = createRetryPolicy({ retries: 20, baseMs: 1000, capMs: 60_000, maxRetryAfterMs: 1, random: () => 0.999999 });
    const d = late.decide(10, new NetworkError('ECONNRESET', 'reset', true));
    expect(d.retry && Math.round(d.delayMs)).toBe(60_000);
    const low = policy(() => 0).decide(3, new TimeoutError('ETIMEDOUT_BODY', 'idle'));
    expect(low).toEqual({ retry: true, delayMs: 0, hostCooldown: false });
  });

  it('is final at once for what a retry cannot fix', () => {
    const p = policy();
    for (const status of [400, 401, 403, 404, 410, 451]) {
      expect(p.decide(1, new HttpStatusError(status, '')).retry, String(status)).toBe(false);
    }
    expect(p.decide(1, new LocalError('EACCES', 'permission denied', false)).retry).toBe(false);
  });

  it('retries 408, 425, 429, 500, 502, 503, 504, resets and short bodies', () => {
    const p = policy();
    for (const status of [408, 425, 429, 500, 502, 503, 504]) {
      expect(p.decide(1, new HttpStatusError(status, '')).retry, String(status)).toBe(true);
    }
    expect(p.decide(1, new BodyLengthError(10, 20)).retry).toBe(true);
    expect(p.decide(1, new NetworkError('ECONNRESET', 'reset', true)).retry).toBe(true);
  });

  it('gives up after the configured number of retries and says so', () => {
    const d = policy().decide(6, new HttpStatusError(500, 'Internal Server Error'));
    expect(d).toEqual({ retry: false, note: 'gave up after 6 attempts' });
  });

  it('waits as long as Retry-After says on 429 and 503, for the whole host', () => {
    expect(policy().decide(1, new HttpStatusError(429, '', '7'))).toEqual({ retry: true, delayMs: 7000, hostCooldown: true });
    const date = new Date(1_000_000 + 12_000).toUTCString();
    const d = policy(undefined, () => 1_000_000).decide(1, new HttpStatusError(503, '', date));
    expect(d.retry && d.hostCooldown).toBe(true);
    expect(d.retry && d.delayMs).toBeGreaterThan(10_000);
    expect(d.retry && d.delayMs).toBeLessThanOrEqual(12_000);
    // Retry-After on another status is not a host-wide instruction.
    expect(policy().decide(1, new HttpStatusError(500, '', '7'))).toMatchObject({ hostCooldown: false });
  });

  it('fails a job whose Retry-After is longer than the maximum, with the reason', () => {
    expect(policy().decide(1, new HttpStatusError(429, '', '3600'))).toEqual({
      retry: false,
      note: 'Retry-After of 3600 s is longer than --max-retry-after 300 s',
    });
  });
});

describe('parseRetryAfter', () => {
  it('reads delta-seconds and HTTP dates, and nothing else', () => {
    expect(parseRetryAfter('120', 0)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', 0)).toBe(0);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', Date.UTC(2015, 9, 21, 7, 27, 0))).toBe(60_000);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', Date.UTC(2016, 0, 1))).toBe(0);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
    expect(parseRetryAfter('-5', 0)).toBeUndefined();
  });
});
