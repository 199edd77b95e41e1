import { describe, expect, it } from 'vitest';
import { checkUrl } from '../../src/input/url-line.js';

function url(result: URL | string): URL {
  if (typeof result === 'string') throw new Error(`expected a URL, got ${result}`);
  return result;
}

function reason(result: URL | string): string {
  if (typeof result !== 'string') throw new Error(`expected a reason, got ${result.href}`);
  return result;
}

describe('checkUrl on input lines', () => {
  it('accepts http and https URLs, trimmed', () => {
    expect(url(checkUrl('http://example.com/a.jpg')).href).toBe('http://example.com/a.jpg');
    expect(url(checkUrl('https://example.com/b.jpg?x=1')).href).toBe('https://example.com/b.jpg?x=1');
    expect(url(checkUrl('  https://example.com/c  ')).href).toBe('https://example.com/c');
    expect(url(checkUrl('HTTPS://EXAMPLE.com/D')).href).toBe('https://example.com/D');
  });

  it('drops the fragment', () => {
    const u = url(checkUrl('https://example.com/page.html#section-2'));
    expect(u.hash).toBe('');
    expect(u.href).toBe('https://example.com/page.html');
  });

  it('rejects text that is not a URL, with a reason that quotes it', () => {
    for (const text of ['garbage', 'example.com/a.jpg', '/relative/path', 'http://']) {
      const r = reason(checkUrl(text));
      expect(r).toMatch(/not a URL/);
      expect(r).toContain(JSON.stringify(text));
    }
  });

  it('rejects other schemes with a reason naming the scheme', () => {
    const cases: Array<[string, string]> = [
      ['ftp://example.com/file', 'ftp'],
      ['file:///etc/passwd', 'file'],
      ['javascript:alert(1)', 'javascript'],
      ['data:text/plain,hi', 'data'],
    ];
    for (const [text, scheme] of cases) {
      const r = reason(checkUrl(text));
      expect(r).toContain(`unsupported scheme "${scheme}"`);
    }
  });

  it('redacts credentials in the reason', () => {
    const r = reason(checkUrl('ftp://alice:s3cret@example.com/file'));
    expect(r).not.toContain('s3cret');
    expect(r).not.toContain('alice');
    expect(r).toContain('example.com/file');
  });

  // Regression (fixed): quote() runs redactUrl(), which returns text it cannot parse unchanged, so a URL with
  // credentials that fails to parse (bad port, space in the host) is echoed into the reason with
  // its password in clear. The error reports and logs then leak the secret.
  it('redacts credentials in the reason even when the URL does not parse', () => {
    for (const text of ['http://alice:s3cret@example.com:99999/a', 'https://alice:s3cret@exa mple.com/a']) {
      const r = reason(checkUrl(text));
      expect(r).toMatch(/not a URL/);
      expect(r).not.toContain('s3cret');
    }
  });

  it('cuts very long text in the reason', () => {
    const r = reason(checkUrl(`x${'y'.repeat(1000)}`));
    expect(r.length).toBeLessThan(260);
    expect(r).toContain('...');
  });
});

describe('checkUrl', () => {
  it('returns a URL object for http(s) and a string reason otherwise', () => {
    expect(checkUrl('http://example.com/')).toBeInstanceOf(URL);
    expect(typeof checkUrl('ftp://example.com/')).toBe('string');
  });

  it('keeps credentials in an accepted URL (they are needed for the request)', () => {
    const u = checkUrl('https://alice:pw@example.com/x#frag');
    expect(u).toBeInstanceOf(URL);
    expect((u as URL).username).toBe('alice');
    expect((u as URL).hash).toBe('');
  });
});
