import { describe, expect, it } from 'vitest';
import { bareHostname, isAddress } from '../../src/http/origin-of.js';

describe('isAddress', () => {
  const hostOf = (url: string): string => bareHostname(new URL(url).hostname);

  it('knows an IP address in every form a URL writes it in', () => {
    expect(isAddress(hostOf('http://127.0.0.1:8080/a'))).toBe(true);
    // A URL writes short and hexadecimal IPv4 forms as four decimal numbers.
    expect(isAddress(hostOf('http://127.1/a'))).toBe(true);
    expect(isAddress(hostOf('http://0x7f.0.0.1/a'))).toBe(true);
    expect(isAddress(hostOf('http://[::1]:8080/a'))).toBe(true);
    expect(isAddress(hostOf('http://[2001:db8::1]/a'))).toBe(true);
  });

  it('takes a name for a name', () => {
    expect(isAddress(hostOf('http://localhost/a'))).toBe(false);
    expect(isAddress(hostOf('http://files.example.com/a'))).toBe(false);
    expect(isAddress(hostOf('http://1.2.3.example/a'))).toBe(false);
    expect(isAddress(hostOf('http://xn--bcher-kva.example/a'))).toBe(false);
  });
});
