import { lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Script } from 'node:vm';

/**
 * Runs the bundled CLI (a CommonJS file) with the code V8 compiled for it on an earlier run.
 * Compiling dl's and its dependencies' functions took a fifth of a one-file run's start-up
 * (docs/architecture.md, "V8's code cache"). Node 20 has no compile cache of its own for
 * applications, so this keeps V8's, one file per user, built bundle and Node. A cache V8 does
 * not accept (another V8, other flags) is compiled over and replaced; any trouble with the
 * cache's folder or file just means compiling, as without it. This module runs before the
 * bundle and must stay light: Node's built-in modules only, and cheap ones.
 */
export interface CachedModule {
  exports: unknown;
  /** Whether V8 took its code from the cache. */
  fromCache: boolean;
  /** Writes the cache if the run had none it could use, and did enough to make one worth it. */
  save(ranForMs: number): void;
}

/**
 * A run shorter than this (`--version`, `--help`, a usage error) compiles little of the bundle:
 * its cache would leave every later download to compile what it needs, so none is written.
 */
const WORTH_SAVING_MS = 20;

export function requireWithCodeCache(file: string, cacheDir: string = defaultCacheDir()): CachedModule {
  const source = readFileSync(file, 'utf8');
  const cacheFile = cacheFileFor(file, cacheDir);
  const cachedData = cacheFile === undefined ? undefined : readIfThere(cacheFile);
  // The function Node's own CommonJS loader wraps a module in, so the bundle runs as if required.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: file, cachedData });
  const module = { exports: {} as unknown };
  const wrapper = script.runInThisContext() as (...args: unknown[]) => void;
  wrapper.call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  const fromCache = cachedData !== undefined && !script.cachedDataRejected;
  return {
    exports: module.exports,
    fromCache,
    save(ranForMs) {
      if (fromCache || cacheFile === undefined || ranForMs < WORTH_SAVING_MS) return;
      writeQuietly(cacheFile, script.createCachedData(), basename(file));
    },
  };
}

/**
 * A folder of the user's own in the temporary folder, as Node's compile cache uses. On a shared
 * machine another user could have made it first, or put a link in its place: code read from a
 * cache is run, so a folder that is not a plain one of this user's, closed to others, is not used.
 */
export function defaultCacheDir(): string {
  const uid = process.getuid?.();
  return join(tmpdir(), uid === undefined ? 'dl-code-cache' : `dl-code-cache-${uid}`);
}

/**
 * The cache's file for this build of the bundle. V8 checks its own version and flags but, of
 * the source, only the length: a rebuilt bundle of the same length would get code compiled from
 * the old one. So the name carries the bundle's inode, size and change time (which nothing can
 * set back, unlike the modification time that npm fixes for every file it unpacks).
 */
function cacheFileFor(file: string, cacheDir: string): string | undefined {
  try {
    const bundle = statSync(file);
    if (!ownFolder(cacheDir)) return undefined;
    const id = `${bundle.ino}-${bundle.size}-${Math.trunc(bundle.ctimeMs)}`;
    return join(cacheDir, `${basename(file)}-${id}-${process.versions.v8}-${process.arch}.v8`);
  } catch {
    return undefined;
  }
}

/** The cache folder, made if need be; whether it is a plain folder of this user's that no one else may write to. */
function ownFolder(dir: string): boolean {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const info = lstatSync(dir);
  if (!info.isDirectory()) return false;
  const uid = process.getuid?.();
  return uid === undefined || (info.uid === uid && (info.mode & 0o022) === 0);
}

function readIfThere(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

/**
 * Written whole under a name of its own, then renamed: a run reading it meanwhile sees the old
 * file or the new. The caches of earlier builds of the same bundle go (each rebuild, each
 * `npm test`, would otherwise leave half a megabyte behind).
 */
function writeQuietly(path: string, data: Buffer, bundle: string): void {
  const temporary = `${path}.${process.pid}`;
  try {
    writeFileSync(temporary, data, { mode: 0o600 });
    renameSync(temporary, path);
    removeOlder(path, bundle);
  } catch {
    removeQuietly(temporary);
  }
}

/** The caches of other builds of the same bundle, in the same folder. */
function removeOlder(path: string, bundle: string): void {
  const dir = dirname(path);
  const name = basename(path);
  for (const other of readdirSync(dir)) {
    if (other !== name && other.startsWith(`${bundle}-`) && other.endsWith('.v8')) removeQuietly(join(dir, other));
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Gone already, or never written.
  }
}
