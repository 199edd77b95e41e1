#!/usr/bin/env node
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';

// undici parses HTTP with a WebAssembly module. V8 compiles it a second time, optimised, on a
// background thread, and a process cannot exit before that compilation ends: 100-150 ms added
// to every run here, for a parser that is rarely the bottleneck of a download. The baseline
// compiler alone is as fast for dl's runs (docs/architecture.md). Set before undici loads, and
// before the code cache is read: V8 accepts a cache only under the flags it was made with.
setFlagsFromString('--liftoff-only');
// The CLI bundled into one file (scripts/bundle.js), run with the code V8 compiled for it on an
// earlier run (src/cli/code-cache.ts): a quicker start than its ~90 modules compiled anew.
const { requireWithCodeCache } = await import('../dist/cli/code-cache.js');
const cli = requireWithCodeCache(fileURLToPath(new URL('../dist/cli.cjs', import.meta.url)));
const started = performance.now();
const code = await cli.exports.main(process.argv);
cli.save(performance.now() - started);

// Exit as soon as the run is over: an open stdin pipe or idle keep-alive sockets must not
// keep the process alive. Output to pipes and files is written synchronously on POSIX.
process.exit(code);
