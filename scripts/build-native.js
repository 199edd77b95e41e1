#!/usr/bin/env node
// `node scripts/build-native.js`, run when dl is installed (`npm install`, `npm ci`): builds dl's
// native helpers with node-gyp, as npm gives it to its scripts, else the one npm carries: the
// body pump (native/pump.c) and, on Linux, the small-file fetcher (native/fetcher.c). Run it
// again after changing either. Both are optional: where they do not build (no compiler, no Node
// headers), dl does the same work in JavaScript, so this says why in one line and never fails
// the install.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const native = join(dirname(fileURLToPath(import.meta.url)), '..', 'native');
const gyp = process.env.npm_config_node_gyp ?? join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
// Node's own headers where this Node has them (npm passes its nodedir setting on as
// npm_config_nodedir): node-gyp would otherwise download them.
const prefix = join(dirname(process.execPath), '..');
const nodedir = process.env.npm_config_nodedir ?? (existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined);
const gypArgs = [gyp, 'rebuild', ...(nodedir ? [`--nodedir=${nodedir}`] : [])];
// Bounded: without local headers node-gyp downloads them, which an offline machine may never finish.
const built = existsSync(gyp) ? spawnSync(process.execPath, gypArgs, { cwd: native, encoding: 'utf8', timeout: 180_000 }) : undefined;
if (built?.status !== 0) {
  // No half-built helper left to load.
  rmSync(join(native, 'build'), { recursive: true, force: true });
  const why = built === undefined ? `node-gyp not found at ${gyp}` : (built.error?.message ?? built.stderr.split('\n').find((line) => line.includes('ERR!')) ?? `node-gyp exit ${built.status}`).trim();
  process.stderr.write(`dl: the native helpers were not built (${why}); their work is done in JavaScript.\n`);
}
