import { describe, expect, it } from 'vitest';
import {
  FALLBACK_NAME,
  MAX_NAME_BYTES,
  fitBytes,
  nameFromUrl,
  sanitizeName,
  splitExtension,
} from '../../src/fs/naming.js';

const name = (url: string): string => nameFromUrl(new URL(url));
const bytes = (s: string): number => Buffer.byteLength(s);

/** What every name must be: one harmless path segment. */
function expectSafe(result: string): void {
  expect(result).not.toContain('/');
  expect(result).not.toContain('\\');
  expect(result).not.toContain('\0');
  expect(result).not.toBe('');
  expect(result).not.toBe('.');
  expect(result).not.toBe('..');
  expect(bytes(result)).toBeLessThanOrEqual(MAX_NAME_BYTES);
}

describe('nameFromUrl', () => {
  it('takes the last segment of the path', () => {
    expect(name('https://example.com/a/b/photo.jpg')).toBe('photo.jpg');
    expect(name('https://example.com/file.tar.gz')).toBe('file.tar.gz');
  });

  it('percent-decodes the segment', () => {
    expect(name('https://example.com/my%20file.txt')).toBe('my file.txt');
    expect(name('https://example.com/%E2%82%AC%20price.pdf')).toBe('\u20ac price.pdf');
    expect(name('https://example.com/caf%C3%A9.html')).toBe('caf\u00e9.html');
  });

  it('keeps a malformed escape as literal text', () => {
    expect(name('https://example.com/100%zz.txt')).toBe('100%zz.txt');
  });

  it('drops the query and the fragment', () => {
    expect(name('https://example.com/dir/a.jpg?size=large&x=1#top')).toBe('a.jpg');
    expect(name('https://example.com/b.png#frag')).toBe('b.png');
  });

  it('falls back to index.html when the path gives no name', () => {
    expect(FALLBACK_NAME).toBe('index.html');
    expect(name('https://example.com')).toBe('index.html');
    expect(name('https://example.com/')).toBe('index.html');
    expect(name('https://example.com/dir/')).toBe('index.html');
    expect(name('https://example.com/dir/?q=1')).toBe('index.html');
    expect(name('https://example.com/%20%20')).toBe('index.html');
  });

  it('never yields a traversal or a dot name', () => {
    const urls = [
      'https://example.com/..',
      'https://example.com/a/..',
      'https://example.com/%2e%2e',
      'https://example.com/%2e%2e%2f',
      'https://example.com/..%2f..%2fetc%2fpasswd',
      'https://example.com/x/..%2f..%2f..%2fetc%2fpasswd',
      'https://example.com/%2e',
      'https://example.com/.%2e',
      'https://example.com/..%5c..%5cwindows%5csystem32',
      'https://example.com/...',
      'https://example.com/%2e%2e%2f%2e%2e%2f',
      'https://example.com/%2f',
      'https://example.com/%00',
    ];
    for (const url of urls) expectSafe(name(url));
    expect(name('https://example.com/..%2f..%2fetc%2fpasswd')).toContain('passwd');
  });

  it('removes control and bidi characters', () => {
    const cases = [
      'https://example.com/a%00b.txt',
      'https://example.com/a%0Ab.txt',
      'https://example.com/a%1Bb.txt',
      'https://example.com/a%7Fb.txt',
      'https://example.com/invoice%E2%80%AEfdp.exe', // U+202E RIGHT-TO-LEFT OVERRIDE
      'https://example.com/a%E2%80%8Fb.txt', // U+200F RIGHT-TO-LEFT MARK
      'https://example.com/a%E2%81%A6b.txt', // U+2066 LEFT-TO-RIGHT ISOLATE
    ];
    for (const url of cases) {
      const result = name(url);
      expectSafe(result);
      // eslint-disable-next-line no-control-regex
      expect(result).not.toMatch(/[\u0000-\u001f\u007f\u200e\u200f\u202a-\u202e\u2066-\u2069]/);
    }
    expect(name('https://example.com/invoice%E2%80%AEfdp.exe').endsWith('.exe')).toBe(true);
  });

  it('changes reserved device names', () => {
    for (const reserved of ['CON', 'con', 'PRN', 'AUX', 'NUL', 'COM1', 'LPT1']) {
      const result = name(`https://example.com/${reserved}`);
      expect(result.toUpperCase()).not.toBe(reserved.toUpperCase());
      expectSafe(result);
    }
    const withExt = name('https://example.com/con.txt');
    expect(withExt.split('.')[0]!.toUpperCase()).not.toBe('CON');
    expect(withExt.endsWith('.txt')).toBe(true);
  });

  it('cuts long names to MAX_NAME_BYTES bytes and keeps the extension', () => {
    const long = 'a'.repeat(1000);
    const result = name(`https://example.com/${long}.jpg`);
    expect(bytes(result)).toBeLessThanOrEqual(MAX_NAME_BYTES);
    expect(bytes(result)).toBe(MAX_NAME_BYTES);
    expect(result.endsWith('.jpg')).toBe(true);
  });

  it('cuts multibyte names by bytes, on character boundaries, keeping the extension', () => {
    const euro = '\u20ac'.repeat(200); // 600 bytes
    const result = name(`https://example.com/${encodeURIComponent(euro)}.pdf`);
    expect(bytes(result)).toBeLessThanOrEqual(MAX_NAME_BYTES);
    expect(result.endsWith('.pdf')).toBe(true);
    expect(result).not.toContain('\ufffd');
    expect(result.slice(0, -4)).toMatch(/^\u20ac+$/);
    // As many whole characters as fit: 236 bytes / 3 = 78.
    expect(result).toBe(`${'\u20ac'.repeat(78)}.pdf`);

    const emoji = '\ud83d\ude00'.repeat(100); // 4 bytes each
    const e = name(`https://example.com/${encodeURIComponent(emoji)}.png`);
    expect(bytes(e)).toBeLessThanOrEqual(MAX_NAME_BYTES);
    expect(e.endsWith('.png')).toBe(true);
    expect(Buffer.from(e, 'utf8').toString('utf8')).toBe(e); // no lone surrogate
  });

  it('keeps names at or under the limit unchanged', () => {
    const exact = `${'b'.repeat(MAX_NAME_BYTES - 4)}.txt`;
    expect(name(`https://example.com/${exact}`)).toBe(exact);
  });
});

describe('sanitizeName', () => {
  it('replaces separators so the result is one segment', () => {
    expectSafe(sanitizeName('a/b\\c.txt'));
    expectSafe(sanitizeName('../../etc/passwd'));
    expectSafe(sanitizeName('..'));
    expectSafe(sanitizeName('.'));
  });

  it('uses the fallback for blank names', () => {
    expect(sanitizeName('')).toBe(FALLBACK_NAME);
    expect(sanitizeName('   ')).toBe(FALLBACK_NAME);
  });

  it('strips trailing dots and spaces (Windows rule)', () => {
    expect(sanitizeName('report.pdf. . ')).toBe('report.pdf');
  });

  // Regression (fixed): sanitizeName cuts to MAX_NAME_BYTES with fitBytes *after* filenamify stripped trailing
  // dots and spaces, so a cut that lands right after a space or a dot leaves the name ending in
  // one (unusable on Windows/SMB, where filenamify's guarantee was the reason to call it).
  it('never ends a name with a space or a dot, even after cutting to the byte limit', () => {
    // No extension (or a tail too long to be one), so the cut falls inside the name.
    for (const sep of [' ', '.']) {
      const input = `${'a'.repeat(MAX_NAME_BYTES - 1)}${sep}${'b'.repeat(50)}`;
      const result = sanitizeName(input);
      expect(bytes(result)).toBeLessThanOrEqual(MAX_NAME_BYTES);
      expect(result).not.toMatch(/[ .]$/);
    }
  });
});

describe('splitExtension', () => {
  it('splits at the last dot', () => {
    expect(splitExtension('archive.tar.gz')).toEqual({ base: 'archive.tar', ext: '.gz' });
    expect(splitExtension('a.jpg')).toEqual({ base: 'a', ext: '.jpg' });
  });

  it('treats a leading dot, no dot, or a long tail as no extension', () => {
    expect(splitExtension('.bashrc')).toEqual({ base: '.bashrc', ext: '' });
    expect(splitExtension('README')).toEqual({ base: 'README', ext: '' });
    const long = 'name.thisisaverylongtailthatisnotanextension';
    expect(splitExtension(long)).toEqual({ base: long, ext: '' });
  });
});

describe('fitBytes', () => {
  it('puts the suffix before the extension', () => {
    expect(fitBytes('a.jpg', '.1', MAX_NAME_BYTES)).toBe('a.1.jpg');
    expect(fitBytes('README', '.2', MAX_NAME_BYTES)).toBe('README.2');
  });

  it('cuts the base, not the suffix or the extension', () => {
    const result = fitBytes(`${'x'.repeat(300)}.jpg`, '.12', 100);
    expect(bytes(result)).toBe(100);
    expect(result.endsWith('.12.jpg')).toBe(true);
  });

  it('never splits a multibyte character', () => {
    const result = fitBytes(`${'\u00e9'.repeat(100)}.txt`, '', 11); // 2-byte chars, 7 bytes of budget
    expect(result).toBe('\u00e9\u00e9\u00e9.txt');
  });
});
