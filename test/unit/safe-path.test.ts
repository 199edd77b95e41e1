import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalError } from '../../src/errors/errors.js';
import { partPath, resolveInside } from '../../src/fs/safe-path.js';

let dest: string;

beforeAll(async () => {
  dest = await mkdtemp(join(tmpdir(), 'dl-safe-path-'));
});

afterAll(async () => {
  await rm(dest, { recursive: true, force: true });
});

function rejected(out: string): LocalError {
  try {
    resolveInside(dest, out);
  } catch (error) {
    expect(error).toBeInstanceOf(LocalError);
    return error as LocalError;
  }
  throw new Error(`resolveInside accepted ${JSON.stringify(out)}`);
}

describe('resolveInside', () => {
  it('accepts a plain name and returns its absolute path inside the folder', () => {
    expect(resolveInside(dest, 'a.jpg')).toBe(join(resolve(dest), 'a.jpg'));
  });

  it('accepts names in subfolders and names that merely start with dots', () => {
    expect(resolveInside(dest, 'sub/dir/b.txt')).toBe(join(resolve(dest), 'sub', 'dir', 'b.txt'));
    expect(resolveInside(dest, '..foo')).toBe(join(resolve(dest), '..foo'));
    expect(resolveInside(dest, '.hidden')).toBe(join(resolve(dest), '.hidden'));
    expect(resolveInside(dest, 'a/../b.jpg')).toBe(join(resolve(dest), 'b.jpg'));
  });

  it('accepts a relative destination folder', () => {
    const rel = 'some-relative-dir';
    expect(resolveInside(rel, 'x.bin')).toBe(resolve(rel, 'x.bin'));
  });

  it('rejects .. and paths that climb out of the folder', () => {
    for (const out of ['..', '../x', '../../etc/passwd', 'a/../../x', 'a/b/../../../x']) {
      const error = rejected(out);
      expect(error.code).toBe('UNSAFE_PATH');
      expect(error.retryable).toBe(false);
    }
  });

  it('rejects a path that climbs into a sibling folder with the same prefix', () => {
    const sibling = `../${dest.split('/').pop()}-evil/x`;
    expect(rejected(sibling).code).toBe('UNSAFE_PATH');
  });

  it('rejects absolute paths', () => {
    expect(rejected('/etc/passwd').code).toBe('UNSAFE_PATH');
    expect(rejected('/tmp/x').code).toBe('UNSAFE_PATH');
  });

  it('rejects the folder itself', () => {
    expect(rejected('').code).toBe('UNSAFE_PATH');
    expect(rejected('.').code).toBe('UNSAFE_PATH');
    expect(rejected('a/..').code).toBe('UNSAFE_PATH');
  });

  it('gives what resolving would give, for every name made of plain and tricky segments', () => {
    // The oracle: resolve, then refuse what is not strictly inside (the whole check, done slowly).
    const root = resolve(dest);
    const byResolving = (out: string): string | undefined => {
      const target = resolve(root, out);
      const rel = relative(root, target);
      return rel === '' || rel === '..' || rel.startsWith('../') || isAbsolute(rel) || out.includes('\0') ? undefined : target;
    };
    const parts = ['a', '.', '..', '', '.x', '..y', 'b\\c', ' ', 'z\0', '...'];
    let checked = 0;
    const names = (depth: number): string[] =>
      depth === 0 ? [''] : names(depth - 1).flatMap((name) => parts.map((part) => (name === '' ? part : `${name}/${part}`)));
    for (const out of [...names(1), ...names(2), ...names(3), ...names(3).map((name) => `/${name}`)]) {
      let got: string | undefined;
      try {
        got = resolveInside(dest, out);
      } catch (error) {
        expect((error as LocalError).code).toBe('UNSAFE_PATH');
      }
      expect(got, JSON.stringify(out)).toBe(byResolving(out));
      checked++;
    }
    expect(checked).toBeGreaterThan(2000);
  });

  it('answers for the folder asked about when folders alternate', () => {
    for (const folder of [dest, '/srv/other', dest, 'relative-one', '/srv/other']) {
      expect(resolveInside(folder, 'sub/a.bin')).toBe(join(resolve(folder), 'sub', 'a.bin'));
    }
  });

  it('rejects names with a NUL byte', () => {
    expect(rejected('a\0b').code).toBe('UNSAFE_PATH');
    expect(rejected('file.jpg\0.txt').code).toBe('UNSAFE_PATH');
  });
});

describe('partPath', () => {
  it('appends .part', () => {
    expect(partPath('/d/a.jpg')).toBe('/d/a.jpg.part');
  });
});
