import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { withTempDir } from '../helpers/cli.js';

// Built by the global setup. Each load runs in a process of its own: within one process, V8
// reuses what it compiled for a source it has seen, whatever the cache holds.
const codeCache = pathToFileURL(resolve('dist/cli/code-cache.js')).href;

interface Loaded {
  fromCache: boolean;
  value: unknown;
}

/** Loads `file` through the code cache in `cacheDir` in a fresh Node process, then saves as a run of `ranForMs` would. */
function load(file: string, cacheDir: string, ranForMs = 100): Loaded {
  const script = `
    const { requireWithCodeCache } = await import(${JSON.stringify(codeCache)});
    const loaded = requireWithCodeCache(${JSON.stringify(file)}, ${JSON.stringify(cacheDir)});
    loaded.save(${ranForMs});
    console.log(JSON.stringify({ fromCache: loaded.fromCache, value: loaded.exports.value() }));`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as Loaded;
}

/** A CommonJS module whose `value()` says what it is and what it was loaded as. */
function writeModule(path: string, name: string): void {
  writeFileSync(path, `exports.value = () => ({ name: ${JSON.stringify(name)}, file: __filename, requires: typeof require('node:path').join });\n`);
}

const cacheFiles = (dir: string): string[] => readdirSync(dir).filter((name) => name.endsWith('.v8'));

describe('requireWithCodeCache', () => {
  it('compiles on the first run, saves what V8 compiled, and runs from it the next time', async () => {
    await withTempDir(async (dir) => {
      const file = join(dir, 'bundle.cjs');
      const cache = join(dir, 'cache');
      writeModule(file, 'first');
      const first = load(file, cache);
      expect(first).toEqual({ fromCache: false, value: { name: 'first', file, requires: 'function' } });
      expect(cacheFiles(cache)).toHaveLength(1);
      const [saved] = cacheFiles(cache);
      const written = statSync(join(cache, saved!)).mtimeMs;

      const second = load(file, cache);
      expect(second).toEqual({ fromCache: true, value: first.value });
      // A cache that was used is not written again.
      expect(statSync(join(cache, saved!)).mtimeMs).toBe(written);
      expect(statSync(cache).mode & 0o777).toBe(0o700);
    });
  });

  it('writes no cache for a short run, whose few compiled functions would leave later runs compiling', async () => {
    await withTempDir(async (dir) => {
      const file = join(dir, 'bundle.cjs');
      writeModule(file, 'short');
      expect(load(file, join(dir, 'cache'), 1).fromCache).toBe(false);
      expect(cacheFiles(join(dir, 'cache'))).toEqual([]);
    });
  });

  it('compiles over a cache V8 rejects, and replaces it', async () => {
    await withTempDir(async (dir) => {
      const file = join(dir, 'bundle.cjs');
      const cache = join(dir, 'cache');
      writeModule(file, 'kept');
      load(file, cache);
      const [saved] = cacheFiles(cache);
      writeFileSync(join(cache, saved!), Buffer.alloc(4096, 7));
      expect(load(file, cache)).toMatchObject({ fromCache: false, value: { name: 'kept' } });
      expect(load(file, cache)).toMatchObject({ fromCache: true, value: { name: 'kept' } });
    });
  });

  it('never runs code compiled from an earlier build of the same length, and drops its cache', async () => {
    await withTempDir(async (dir) => {
      const file = join(dir, 'bundle.cjs');
      const cache = join(dir, 'cache');
      writeModule(file, 'old1');
      load(file, cache);
      const [old] = cacheFiles(cache);
      writeModule(file, 'new2');
      expect(load(file, cache)).toMatchObject({ fromCache: false, value: { name: 'new2' } });
      expect(cacheFiles(cache)).toHaveLength(1);
      expect(cacheFiles(cache)).not.toContain(old);
    });
  });

  it('neither reads nor writes a cache folder that others may write to, or that is a link', async () => {
    await withTempDir(async (dir) => {
      const file = join(dir, 'bundle.cjs');
      writeModule(file, 'guarded');
      const open = join(dir, 'open');
      mkdirSync(open);
      load(file, open);
      chmodSync(open, 0o777);
      expect(load(file, open)).toMatchObject({ fromCache: false, value: { name: 'guarded' } });

      const linked = join(dir, 'linked');
      const target = join(dir, 'target');
      mkdirSync(target, { mode: 0o700 });
      symlinkSync(target, linked);
      expect(load(file, linked)).toMatchObject({ fromCache: false, value: { name: 'guarded' } });
      expect(cacheFiles(target)).toEqual([]);
    });
  });
});
