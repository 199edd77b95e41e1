import { describe, expect, it } from 'vitest';
import { count, header, keyedLimit, positiveInt, seconds, size } from '../../src/cli/parse.js';

describe('option parsers', () => {
  it('size: bytes, and k/M/G/T as powers of 1024, with or without B/iB', () => {
    expect(size('500')).toBe(500);
    expect(size('64k')).toBe(65536);
    expect(size('1.5M')).toBe(1572864);
    expect(size('2G')).toBe(2 * 1024 ** 3);
    expect(size('1TiB')).toBe(1024 ** 4);
    expect(size('3 MB')).toBe(3 * 1024 ** 2);
    for (const bad of ['', 'big', '-1', '1X', '1..5M']) expect(() => size(bad), bad).toThrow(/expected a size/);
  });

  it('header: "Name: value" with colons kept in the value, names in lower case', () => {
    expect(header('X-A: b: c')).toEqual({ 'x-a': 'b: c' });
    expect(header('Cookie: a=1', { 'x-a': 'b' })).toEqual({ 'x-a': 'b', cookie: 'a=1' });
    for (const bad of ['nocolon', ': v', 'bad name: v']) expect(() => header(bad), bad).toThrow(/Name: value/);
  });

  it('numbers, seconds and keyed limits', () => {
    expect(positiveInt('8')).toBe(8);
    expect(() => positiveInt('0')).toThrow();
    expect(count('0')).toBe(0);
    expect(() => count('1.5')).toThrow();
    expect(seconds('0.5')).toBe(500);
    expect(() => seconds('-1')).toThrow();
    expect(keyedLimit('Example.org=2')).toEqual(new Map([['example.org', 2]]));
    expect(() => keyedLimit('example.org')).toThrow(/NAME=N/);
  });
});
