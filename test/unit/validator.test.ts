import { describe, expect, it } from 'vitest';
import { ifRange, parseContentRange, sameVersion, validatorOf } from '../../src/http/validator.js';

describe('validatorOf', () => {
  it('prefers a strong ETag and keeps Last-Modified', () => {
    expect(validatorOf({ etag: '"abc"', 'last-modified': 'Thu, 01 Jan 2026 00:00:00 GMT' })).toEqual({
      etag: '"abc"',
      lastModified: 'Thu, 01 Jan 2026 00:00:00 GMT',
    });
  });

  it('ignores weak ETags, which If-Range cannot use', () => {
    expect(validatorOf({ etag: 'W/"abc"', 'last-modified': 'x' })).toEqual({ lastModified: 'x' });
    expect(validatorOf({ etag: 'W/"abc"' })).toBeUndefined();
    expect(validatorOf({})).toBeUndefined();
  });

  it('If-Range uses the ETag, else the date', () => {
    expect(ifRange({ etag: '"a"', lastModified: 'x' })).toBe('"a"');
    expect(ifRange({ lastModified: 'x' })).toBe('x');
  });
});

describe('sameVersion', () => {
  it('compares ETags, else dates; a response without validators is trusted to If-Range', () => {
    expect(sameVersion({ etag: '"a"' }, { etag: '"a"' })).toBe(true);
    expect(sameVersion({ etag: '"a"' }, { etag: '"b"' })).toBe(false);
    expect(sameVersion({ lastModified: 'x' }, { lastModified: 'y' })).toBe(false);
    expect(sameVersion({ etag: '"a"' }, undefined)).toBe(true);
  });
});

describe('parseContentRange', () => {
  it('reads start, end and total', () => {
    expect(parseContentRange('bytes 100-199/1000')).toEqual({ start: 100, end: 199, total: 1000 });
    expect(parseContentRange('bytes 0-0/*')).toEqual({ start: 0, end: 0, total: undefined });
  });

  it('rejects what does not describe a range of the body', () => {
    for (const value of [undefined, '', 'bytes */1000', 'bytes 200-100/1000', 'bytes 0-1000/1000', 'items 0-1/2']) {
      expect(parseContentRange(value), String(value)).toBeUndefined();
    }
  });
});
