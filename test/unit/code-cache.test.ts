import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withTempDir } from '../helpers/cli.js';

// Built by the global setup. Each load runs in a process of its own: within one process, V8
// reuses what it compiled for a source it has seen, whatever the cache holds.
// The CommonJS build of the loader, which bin/dl.cjs runs.
const codeCache = resolve('dist/cli/start-up.cjs');

interface Loaded {
  fromCache: boolean;
  value: unknown;
}

/**
 * Loads `file` through the code cache in `cacheDir` in a fresh Node process, calls its `more()`
 * if asked (as a run doing more than the last), then saves as a run of `ranForMs` would.
 */
function load(file: string, cacheDir: string, ranForMs = 100, more = false, env: NodeJS.ProcessEnv = process.env): Loaded {
  const script = `
    const { requireWithCodeCache } = require(${JSON.stringify(codeCache)});
    const loaded = requireWithCodeCache(${JSON.stringify(file)}, ${JSON.stringify(cacheDir)});
    if (${more}) loaded.exports.more();
    loaded.save(${ranForMs});
    console.log(JSON.stringify({ fromCache: loaded.fromCache, value: loaded.exports.value() }));`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', env })) as Loaded;
}

/**
 * A CommonJS module whose `value()` says what it is and what it was loaded as, and whose
 * `more()` runs 200 functions that V8 compiles only when they are called.
 */
function writeModule(path: string, name: string): void {
  const more = Array.from({ length: 200 }, (_, i) => `function f${i}(x) { return [x, ${i}, String(x * ${i})].join('-'); }`).join('\n');
  const calls = Array.from({ length: 200 }, (_, i) => `f${i}(${i})`).join(', ');
  writeFileSync(
    path,
    `exports.value = () => ({ name: ${JSON.stringify(name)}, file: __filename, requires: typeof require('node:path').join, strict: this === undefined });\n` +
      `exports.more = () => {\n${more}\nreturn [${calls}];\n};\n`,
  );
}

/** A module named `name` as `bundle.cjs` in `dir`, and a cache folder to keep beside it. */
function bundleIn(dir: string, name: string): { file: string; cache: string } {
  const file = join(dir, 'bundle.cjs');
  writeModule(file, name);
  return { file, cache: join(dir, 'cache') };
}

const cacheFiles = (dir: string): string[] => readdirSync(dir).filter((name) => name.endsWith('.v8'));

describe('requireWithCodeCache', () => {
  it('compiles on the first run, saves what V8 compiled, and runs from it the next time', async () => {
    await withTempDir(async (dir) => {
      const { file, cache } = bundleIn(dir, 'first');
      const first = load(file, cache);
      expect(first).toEqual({ fromCache: false, value: { name: 'first', file, requires: 'function', strict: false } });
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

  it('reads, writes and makes nothing under NODE_DISABLE_COMPILE_CACHE, as Node does for its own cache', async () => {
    await withTempDir(async (dir) => {
      const { file, cache } = bundleIn(dir, 'off');
      const off = { ...process.env, NODE_DISABLE_COMPILE_CACHE: '1' };
      expect(load(file, cache, 100, false, off)).toEqual({ fromCache: false, value: { name: 'off', file, requires: 'function', strict: false } });
      expect(() => statSync(cache)).toThrow(expect.objectContaining({ code: 'ENOENT' }));

      // A cache made by an earlier run is left alone: not run from, not replaced.
      load(file, cache);
      const [saved] = cacheFiles(cache);
      const before = readFileSync(join(cache, saved!));
      expect(load(file, cache, 100, true, off).fromCache).toBe(false);
      expect(cacheFiles(cache)).toEqual([saved]);
      expect(readFileSync(join(cache, saved!))).toEqual(before);
      expect(load(file, cache).fromCache).toBe(true);
    });
  });

  it('writes no cache for a short run, whose few compiled functions would leave later runs compiling', async () => {
    await withTempDir(async (dir) => {
      const { file, cache } = bundleIn(dir, 'short');
      expect(load(file, cache, 1).fromCache).toBe(false);
      expect(cacheFiles(cache)).toEqual([]);
    });
  });

  it('compiles over a cache V8 rejects, and replaces it', async () => {
    await withTempDir(async (dir) => {
      const { file, cache } = bundleIn(dir, 'kept');
      load(file, cache);
      const [saved] = cacheFiles(cache);
      writeFileSync(join(cache, saved!), Buffer.alloc(4096, 7));
      expect(load(file, cache)).toMatchObject({ fromCache: false, value: { name: 'kept' } });
      expect(load(file, cache)).toMatchObject({ fromCache: true, value: { name: 'kept' } });
    });
  });

  it('compiles over a cache damaged past the header V8 checks first, instead of crashing on it', async () => {
    await withTempDir(async (dir) => {
      const { file, cache } = bundleIn(dir, 'damaged');
      load(file, cache, 100, true);
      const [saved] = cacheFiles(cache);
      const bytes = readFileSync(join(cache, saved!));
      for (let i = bytes.length >> 1; i < (bytes.length >> 1) + 64; i++) bytes[i] = bytes[i]! ^ 0xff;
      writeFileSync(join(cache, saved!), bytes);
      expect(load(file, cache, 100, true)).toMatchObject({ fromCache: false, value: { name: 'damaged' } });
      expect(load(file, cache, 100, true)).toMatchObject({ fromCache: true, value: { name: 'damaged' } });
    });
  });

  it('replaces a cache from a short run once a long run has compiled much more', async () => {
    await withTempDir(async (dir) => {
      const { file, cache } = bundleIn(dir, 'thin');
      load(file, cache, 100);
      const size = () => statSync(join(cache, cacheFiles(cache)[0]!)).size;
      const thin = size();
      // A short run, however much it compiled, keeps the cache it used.
      expect(load(file, cache, 100, true).fromCache).toBe(true);
      expect(size()).toBe(thin);
      expect(load(file, cache, 5000, true).fromCache).toBe(true);
      expect(size()).toBeGreaterThan(thin * 1.1);
      expect(cacheFiles(cache)).toHaveLength(1);
    });
  });

  it('keeps the caches of two installs side by side', async () => {
    await withTempDir(async (dir) => {
      const cache = join(dir, 'cache');
      const files = ['a', 'b'].map((install) => {
        mkdirSync(join(dir, install));
        return bundleIn(join(dir, install), install).file;
      });
      for (const file of files) load(file, cache);
      for (const file of files) expect(load(file, cache).fromCache).toBe(true);
      expect(cacheFiles(cache)).toHaveLength(2);
    });
  });

  it('runs the real bundle in strict mode, as the ES module bundle ran', async () => {
    await withTempDir(async (dir) => {
      // The bundle's own code (beside a package.json, which it reads its version from), with a
      // probe of what `this` is in a plain function at its top level.
      const file = join(dir, 'dist', 'cli.cjs');
      mkdirSync(join(dir, 'dist'));
      writeFileSync(join(dir, 'package.json'), readFileSync('package.json'));
      writeFileSync(file, `${readFileSync(resolve('dist/cli.cjs'), 'utf8')}\nfunction strictProbe() { return { strict: this === undefined }; }\nmodule.exports.value = () => strictProbe();\n`);
      expect(load(file, join(dir, 'cache'), 1).value).toEqual({ strict: true });
    });
  });

  it('never runs code compiled from an earlier build of the same length, and drops its cache', async () => {
    await withTempDir(async (dir) => {
      const { file, cache } = bundleIn(dir, 'old1');
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
      const { file } = bundleIn(dir, 'guarded');
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
