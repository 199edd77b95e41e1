import { describe, expect, it } from 'vitest';
import { redactUrl } from '../../src/utils/redact-url.js';

describe('redactUrl', () => {
  it('replaces user and password and keeps the rest of the URL', () => {
    const out = redactUrl('https://alice:s3cret@example.com:8443/path/file.zip?x=1#frag');
    expect(out).toBe('https://***:***@example.com:8443/path/file.zip?x=1#frag');
    expect(out).not.toContain('alice');
    expect(out).not.toContain('s3cret');
  });

  it('replaces a user without a password', () => {
    const out = redactUrl('http://bob@example.com/a');
    expect(out).toBe('http://***@example.com/a');
    expect(out).not.toContain('bob');
  });

  it('replaces a password without a user', () => {
    const out = redactUrl('http://:hunter2@example.com/a');
    expect(out).not.toContain('hunter2');
    expect(out).toContain('example.com/a');
  });

  it('returns a URL without credentials unchanged, even when it has an @ elsewhere', () => {
    expect(redactUrl('https://example.com/a/b.jpg')).toBe('https://example.com/a/b.jpg');
    expect(redactUrl('https://example.com/users/@me?q=a@b')).toBe('https://example.com/users/@me?q=a@b');
  });

  it('returns strings that are not URLs unchanged', () => {
    expect(redactUrl('not a url')).toBe('not a url');
    expect(redactUrl('someone@example.com')).toBe('someone@example.com');
    expect(redactUrl('')).toBe('');
    expect(redactUrl('-')).toBe('-');
  });
});
