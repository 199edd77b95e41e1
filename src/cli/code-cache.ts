import { closeSync, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync, type Stats } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { Script } from 'node:vm';
import { hash32 } from '../utils/hash-set.js';
import { temporaryName } from '../utils/temporary-name.js';

/**
 * Runs the bundled CLI (a CommonJS file) with the code V8 compiled for it on an earlier run.
 * Compiling dl's and its dependencies' functions took a fifth of a one-file run's start-up
 * (docs/architecture.md, "V8's code cache"). Node 20 has no compile cache of its own for
 * applications, so this keeps V8's, one file per user, install, build and Node. A cache V8 does
 * not accept (another V8, other flags, damaged) is compiled over and replaced; any trouble with
 * the cache's folder or file just means compiling, as without it. This module runs before the
 * bundle and must stay light: cheap built-in modules, and two small modules of dl's.
 */
export interface CachedModule {
  exports: unknown;
  /** Whether V8 took its code from the cache. */
  fromCache: boolean;
  /** Writes the cache if this run had none it could use, or one too thin for what it did. */
  save(ranForMs: number): void;
}

/**
 * A run shorter than this (`--version`, `--help`, a usage error) compiles little of the bundle:
 * its cache would leave every later download to compile what it needs, so none is written.
 */
const WORTH_SAVING_MS = 20;
/**
 * A cache written by a short run (a `--status`) holds only what that run compiled. A run this
 * long, whose cache would be a tenth larger, replaces it: making the data costs 4-5 ms, which
 * only a run this long can spare every time.
 */
const WORTH_GROWING_MS = 1000;
const GROWTH = 1.1;

// V8 checks a cache's header (its version, flags, the source's length) before using it, but not
// the rest unless told to: a cache damaged past its header stopped every run with a fatal error
// in V8's deserialiser, until the file was found and deleted. Checking the checksum of 500 KB
// costs well under a millisecond.
setFlagsFromString('--verify-snapshot-checksum');

export function requireWithCodeCache(file: string, cacheDir: string = defaultCacheDir()): CachedModule {
  const { source, cacheFile } = readBundle(file, cacheDir);
  const cachedData = cacheFile === undefined ? undefined : readOwnFile(cacheFile);
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
      if (cacheFile === undefined || ranForMs < WORTH_SAVING_MS) return;
      if (!fromCache) return writeQuietly(cacheFile, script.createCachedData());
      if (ranForMs < WORTH_GROWING_MS) return;
      const data = script.createCachedData();
      if (data.length > cachedData!.length * GROWTH) writeQuietly(cacheFile, data);
    },
  };
}

/**
 * The bundle's source, and the cache's file for this very build of it: both from one open file,
 * so that a rebuild landing between reading and naming cannot have the old build's code saved
 * under the new build's name.
 */
function readBundle(file: string, cacheDir: string): { source: string; cacheFile: string | undefined } {
  const { bytes, info } = readOpened(file);
  return { source: bytes.toString('utf8'), cacheFile: cacheFileFor(file, info, cacheDir) };
}

/** A file's bytes and what it is, from one open file (no swapping it between the two). */
function readOpened(path: string): { bytes: Buffer; info: Stats } {
  const fd = openSync(path, 'r');
  try {
    return { info: fstatSync(fd), bytes: readFileSync(fd) };
  } finally {
    closeSync(fd);
  }
}

/**
 * A folder of the user's own in the temporary folder, as Node's compile cache uses. On a shared
 * machine another user could have made it first, or put a link in its place: code read from a
 * cache is run, so a folder that is not a plain one of this user's, closed to others, is not used.
 */
export function defaultCacheDir(): string {
  return join(tmpdir(), `dl-code-cache-${process.getuid?.() ?? ''}`);
}

/**
 * The cache's file for this build of the bundle, or none where it cannot be kept safely.
 * - V8 checks its own version and flags but, of the source, only the length: a rebuilt bundle
 *   of the same length would get code compiled from the old one. So the name carries the
 *   bundle's inode, size and change time (which nothing can set back, unlike the modification
 *   time that npm fixes for every file it unpacks).
 * - Its prefix tells this install, Node and options from others (`removeOlder` keeps theirs):
 *   two installs of dl, or two Node versions, would otherwise replace each other's cache on
 *   every run. Options such as `--max-old-space-size` change V8's flags, and so the cache.
 * - Without user ids (Windows) the folder's owner cannot be checked: no cache.
 */
function cacheFileFor(file: string, bundle: Stats, cacheDir: string): string | undefined {
  if (cacheTurnedOff() || process.getuid === undefined || !ownFolder(cacheDir)) return undefined;
  // Node's and V8's options, not the text of a `-e` script (which follows its option).
  const options = process.execArgv.filter((arg) => arg.startsWith('--'));
  const setting = `${file}\n${options.join(' ')}\n${process.env.NODE_OPTIONS ?? ''}`;
  // A 32-bit hash: a name, not a defence (crypto would cost more to load than the cache saves).
  const prefix = `${basename(file)}-${hash32(setting).toString(16)}-${process.versions.v8}-${process.arch}`;
  return join(cacheDir, `${prefix}-${bundle.ino}-${bundle.size}-${Math.trunc(bundle.ctimeMs)}.v8`);
}

/**
 * Node's own switch for its compile cache, `NODE_DISABLE_COMPILE_CACHE=1`, turns dl's off too:
 * someone who asks Node not to run code from a cache (to measure a cold start, to rule the
 * cache out while chasing a fault) means dl's as well. Nothing is then read, written or made.
 */
function cacheTurnedOff(): boolean {
  return Boolean(process.env.NODE_DISABLE_COMPILE_CACHE);
}

/**
 * The cache folder, made if need be (in a temporary folder that exists); whether it is a plain
 * folder of this user's that no one else may write to.
 */
function ownFolder(dir: string): boolean {
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return false;
  }
  try {
    const info = lstatSync(dir);
    return info.isDirectory() && isOwn(info);
  } catch {
    return false;
  }
}

/** Owned by this user and not writable by anyone else. */
const isOwn = (info: Stats): boolean => info.uid === process.getuid?.() && (info.mode & 0o022) === 0;

/**
 * The cache's bytes, if the file is there and, as opened, a plain file of this user's with one
 * link that no one else may write to.
 */
function readOwnFile(path: string): Buffer | undefined {
  try {
    const { bytes, info } = readOpened(path);
    return info.isFile() && info.nlink === 1 && isOwn(info) ? bytes : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Written whole under a name of its own, then renamed: a run reading it meanwhile sees the old
 * file or the new. The caches of earlier builds of the same install go (each rebuild, each
 * `npm test`, would otherwise leave half a megabyte behind).
 */
function writeQuietly(path: string, data: Buffer): void {
  const temporary = temporaryName(path);
  try {
    writeFileSync(temporary, data, { mode: 0o600, flag: 'wx' });
    renameSync(temporary, path);
    removeOlder(path);
  } catch {
    removeQuietly(temporary);
  }
}

/** The caches of other builds under the same prefix (install, Node, options), and what saves left behind. */
function removeOlder(path: string): void {
  const dir = dirname(path);
  const name = basename(path);
  // What follows the prefix names the build: `<inode>-<size>-<change time>.v8`.
  const prefix = name.split('-').slice(0, -3).join('-');
  for (const other of readdirSync(dir)) {
    if (other !== name && other.startsWith(`${prefix}-`)) removeQuietly(join(dir, other));
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Gone already, or never written.
  }
}
