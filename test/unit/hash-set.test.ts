import { describe, expect, it } from 'vitest';
import { HashSet } from '../../src/utils/hash-set.js';
import { namesSharingA32BitHash } from '../helpers/hash-collision.js';

describe('HashSet', () => {
  it('add returns true for a new string and false for one already present', () => {
    const set = new HashSet(64);
    expect(set.add('https://example.com/a.jpg')).toBe(true);
    expect(set.add('https://example.com/b.jpg')).toBe(true);
    expect(set.add('https://example.com/a.jpg')).toBe(false);
    expect(set.add('https://example.com/b.jpg')).toBe(false);
    expect(set.size).toBe(2);
  });

  it('has reports only strings that were added', () => {
    const set = new HashSet(64);
    expect(set.has('x')).toBe(false);
    set.add('x');
    expect(set.has('x')).toBe(true);
    expect(set.has('X')).toBe(false);
    expect(set.has('x ')).toBe(false);
    expect(set.has('')).toBe(false);
  });

  it('starts empty and counts each distinct string once', () => {
    const set = new HashSet(64);
    expect(set.size).toBe(0);
    for (let i = 0; i < 10; i++) set.add('same');
    expect(set.size).toBe(1);
  });

  it('handles the empty string and non-ASCII strings as ordinary members', () => {
    const set = new HashSet(64);
    expect(set.add('')).toBe(true);
    expect(set.add('')).toBe(false);
    expect(set.has('')).toBe(true);
    expect(set.add('\u20ac')).toBe(true);
    expect(set.add('\ud83d\ude00')).toBe(true);
    expect(set.has('\u20ac')).toBe(true);
    expect(set.has('\ud83d\ude00')).toBe(true);
    expect(set.size).toBe(3);
  });

  it('tells apart strings made of the same characters in another order', () => {
    const set = new HashSet(64);
    set.add('ab');
    expect(set.has('ba')).toBe(false);
    expect(set.add('ba')).toBe(true);
    set.add('abc');
    expect(set.has('acb')).toBe(false);
    expect(set.has('bca')).toBe(false);
  });

  it('grows far past its initial capacity, keeps every member and reports no false members', () => {
    const set = new HashSet(64, 16);
    const n = 100_000;
    for (let i = 0; i < n; i++) {
      if (!set.add(`https://example.com/files/${i}.jpg`)) throw new Error(`add ${i} said "already present"`);
    }
    expect(set.size).toBe(n);
    for (let i = 0; i < n; i++) {
      if (!set.has(`https://example.com/files/${i}.jpg`)) throw new Error(`member ${i} lost after growth`);
    }
    // Strings never added, many of them very close to the members.
    let falsePresent = 0;
    for (let i = 0; i < n; i++) {
      if (set.has(`https://example.com/files/${i}.jpeg`)) falsePresent++;
      if (set.has(`https://example.com/files/${i + n}.jpg`)) falsePresent++;
      if (set.has(`https://example.com/Files/${i}.jpg`)) falsePresent++;
    }
    expect(falsePresent).toBe(0);
    // Adding them all again changes nothing.
    let readded = 0;
    for (let i = 0; i < n; i++) if (set.add(`https://example.com/files/${i}.jpg`)) readded++;
    expect(readded).toBe(0);
    expect(set.size).toBe(n);
  });

  it('with 48 bits tells apart two names that 32 bits confuse, also after growing', () => {
    const [first, second] = namesSharingA32BitHash();
    const narrow = new HashSet(32, 16, true);
    narrow.add(first);
    expect(narrow.has(second)).toBe(true); // the collision this guards against
    const set = new HashSet(48, 16, true);
    set.add(first);
    expect(set.has(second)).toBe(false);
    for (let i = 0; i < 10_000; i++) set.add(`m${i}.bin`);
    expect(set.has(first)).toBe(true);
    expect(set.has(second)).toBe(false);
    expect(set.has('M77.BIN')).toBe(true); // without case, as names are compared
    expect(set.add(second)).toBe(true);
    expect(set.size).toBe(10_002);
  });

  it('grows from the default capacity too', () => {
    const set = new HashSet(64);
    for (let i = 0; i < 5000; i++) set.add(String(i));
    expect(set.size).toBe(5000);
    for (let i = 0; i < 5000; i++) expect(set.has(String(i))).toBe(true);
    expect(set.has('5000')).toBe(false);
  });
});

describe('HashSet with 32-bit hashes', () => {
  it('never forgets a string it was given, across growth', () => {
    const set = new HashSet(32, 4);
    const values = Array.from({ length: 50_000 }, (_, i) => `name-${i}.jpg`);
    for (const v of values) set.add(v);
    expect(values.every((v) => set.has(v))).toBe(true);
    expect(set.add('name-7.jpg')).toBe(false);
  });
});

describe('HashSet that folds case', () => {
  it('treats names differing only in case as the same, ASCII or not', () => {
    const set = new HashSet(32, 16, true);
    expect(set.add('Photo.JPG')).toBe(true);
    expect(set.add('photo.jpg')).toBe(false);
    expect(set.add('ÉTÉ.txt')).toBe(true);
    expect(set.add('été.txt')).toBe(false);
    expect(set.add('photo.jpeg')).toBe(true);
  });
});
