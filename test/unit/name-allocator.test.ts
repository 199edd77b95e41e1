import { describe, expect, it } from 'vitest';
import { NameAllocator } from '../../src/fs/name-allocator.js';
import { MAX_NAME_BYTES } from '../../src/fs/naming.js';
import { namesSharingA32BitHash } from '../helpers/hash-collision.js';

describe('NameAllocator', () => {
  it('gives two names that share a 32-bit hash their own names, no suffix', () => {
    const [first, second] = namesSharingA32BitHash();
    const names = new NameAllocator(16);
    names.reserve(first);
    expect(names.allocate(second)).toBe(second);
    expect(names.allocate(first)).toBe(first.replace('.bin', '.1.bin'));
  });

  it('gives the first job the name it asks for', () => {
    const names = new NameAllocator();
    expect(names.allocate('a.jpg')).toBe('a.jpg');
    expect(names.allocate('b.jpg')).toBe('b.jpg');
  });

  it('gives later jobs a.1.jpg, a.2.jpg, ... in order', () => {
    const names = new NameAllocator();
    expect(names.allocate('a.jpg')).toBe('a.jpg');
    expect(names.allocate('a.jpg')).toBe('a.1.jpg');
    expect(names.allocate('a.jpg')).toBe('a.2.jpg');
    expect(names.allocate('a.jpg')).toBe('a.3.jpg');
  });

  it('puts the suffix before the last extension only', () => {
    const names = new NameAllocator();
    names.allocate('backup.tar.gz');
    expect(names.allocate('backup.tar.gz')).toBe('backup.tar.1.gz');
    names.allocate('README');
    expect(names.allocate('README')).toBe('README.1');
  });

  it('compares names without case and keeps the asked-for case in the result', () => {
    const names = new NameAllocator();
    expect(names.allocate('Photo.JPG')).toBe('Photo.JPG');
    expect(names.allocate('photo.jpg')).toBe('photo.1.jpg');
    expect(names.allocate('PHOTO.jpg')).toBe('PHOTO.2.jpg');
    // A generated name collides without case too.
    expect(names.allocate('PHOTO.1.JPG')).not.toBe('PHOTO.1.JPG');
  });

  it('keeps folders apart and suffixes only the file name', () => {
    const names = new NameAllocator();
    expect(names.allocate('x/a.jpg')).toBe('x/a.jpg');
    expect(names.allocate('y/a.jpg')).toBe('y/a.jpg');
    expect(names.allocate('x/a.jpg')).toBe('x/a.1.jpg');
    expect(names.allocate('X/A.jpg')).toBe('X/A.2.jpg');
    expect(names.allocate('a.jpg')).toBe('a.jpg');
  });

  it('skips suffixed names that are already taken', () => {
    const names = new NameAllocator();
    expect(names.allocate('a.1.jpg')).toBe('a.1.jpg');
    expect(names.allocate('a.jpg')).toBe('a.jpg');
    expect(names.allocate('a.jpg')).toBe('a.2.jpg');
    // A name equal to one that was generated gets its own suffix.
    expect(names.allocate('a.2.jpg')).toBe('a.2.1.jpg');
  });

  it('reserve() marks names of an existing log as taken, without case', () => {
    const names = new NameAllocator();
    names.reserve('a.jpg');
    names.reserve('A.1.JPG');
    names.reserve('dir/b.txt');
    expect(names.allocate('a.jpg')).toBe('a.2.jpg');
    expect(names.allocate('dir/B.TXT')).toBe('dir/B.1.TXT');
    expect(names.allocate('c.txt')).toBe('c.txt');
    // Reserving twice is harmless.
    names.reserve('c.txt');
    expect(names.allocate('c.txt')).toBe('c.1.txt');
  });

  it('keeps suffixed long names within MAX_NAME_BYTES and the extension intact', () => {
    const names = new NameAllocator();
    const long = `${'\u00e9'.repeat(118)}.jpg`; // 236 + 4 = 240 bytes
    expect(Buffer.byteLength(long)).toBe(MAX_NAME_BYTES);
    const seen = new Set<string>();
    for (let i = 0; i < 15; i++) {
      const got = names.allocate(long);
      expect(Buffer.byteLength(got)).toBeLessThanOrEqual(MAX_NAME_BYTES);
      expect(got.endsWith('.jpg')).toBe(true);
      expect(Buffer.from(got, 'utf8').toString('utf8')).toBe(got); // no lone surrogate
      seen.add(got.toLowerCase());
    }
    expect(seen.size).toBe(15);
  });

  it('gives every job a distinct name under many collisions of one name, and stays fast', () => {
    const names = new NameAllocator();
    const n = 50_000;
    const seen = new Set<string>();
    const started = performance.now();
    for (let i = 0; i < n; i++) seen.add(names.allocate('index.html').toLowerCase());
    const elapsed = performance.now() - started;
    expect(seen.size).toBe(n);
    expect(seen.has('index.html')).toBe(true);
    expect(seen.has(`index.${n - 1}.html`)).toBe(true);
    // Linear work takes a few tens of milliseconds; retrying every suffix from 1 would be
    // 1.25 billion probes.
    expect(elapsed).toBeLessThan(5000);
  });

  it('stays fast when a log reserved many suffixes of one name', () => {
    const names = new NameAllocator();
    const n = 20_000;
    names.reserve('a.jpg');
    for (let i = 1; i <= n; i++) names.reserve(`a.${i}.jpg`);
    const started = performance.now();
    expect(names.allocate('a.jpg')).toBe(`a.${n + 1}.jpg`);
    for (let i = 2; i <= n; i++) expect(names.allocate('a.jpg')).toBe(`a.${n + i}.jpg`);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('never lets one job\'s name be another job\'s partial file (`x` and `x.part`), in either order and any case', () => {
    const partFirst = new NameAllocator();
    expect(partFirst.allocate('foo.part')).toBe('foo.part');
    expect(partFirst.allocate('foo')).toBe('foo.1');
    expect(partFirst.allocate('FOO')).toBe('FOO.2');

    const plainFirst = new NameAllocator();
    expect(plainFirst.allocate('foo')).toBe('foo');
    expect(plainFirst.allocate('foo.part')).toBe('foo.1.part');
    expect(plainFirst.allocate('d/Foo.PART')).toBe('d/Foo.PART');
    expect(plainFirst.allocate('d/foo')).toBe('d/foo.1');
    // A plain name that only looks similar keeps its name.
    expect(plainFirst.allocate('foo.parts')).toBe('foo.parts');
    expect(plainFirst.allocate('.part')).toBe('.part');

    // The same for names an earlier run gave (read back from the joblog).
    const resumed = new NameAllocator();
    resumed.reserve('bar.part');
    resumed.reserve('baz');
    expect(resumed.allocate('bar')).toBe('bar.1');
    expect(resumed.allocate('baz.part')).toBe('baz.1.part');
  });
});
