#!/usr/bin/env node
'use strict';
// CommonJS, as is all a run loads: an ES module here would start Node's ES module loader, which
// took 12-14 ms of every run (docs/architecture.md, "Start-up").
const { join } = require('node:path');
const { setFlagsFromString } = require('node:v8');

// undici parses HTTP with a WebAssembly module. V8 compiles it a second time, optimised, on a
// background thread, and a process cannot exit before that compilation ends: 100-150 ms added
// to every run here, for a parser that is rarely the bottleneck of a download. The baseline
// compiler alone is as fast for dl's runs (docs/architecture.md). Set before undici loads, and
// before the code cache is read: V8 accepts a cache only under the flags it was made with.
setFlagsFromString('--liftoff-only');
const { monotonicMs, requireWithCodeCache, tuneV8 } = require('../dist/cli/start-up.cjs');
// V8's optimising compiler held back for the run's first second (src/cli/optimise-later.ts): a
// short run ends before optimised code pays for compiling it; and the young generation held at
// 8 MB instead of growing to 32 (src/cli/young-generation.ts). Before the code cache is read,
// which V8 accepts only under the flags it was made with.
const v8Settings = tuneV8();
// The CLI bundled into one file (scripts/bundle.js), run with the code V8 compiled for it on an
// earlier run (src/cli/code-cache.ts): a quicker start than its ~90 modules compiled anew.
const cli = requireWithCodeCache(join(__dirname, '..', 'dist', 'cli.cjs'));
// Not performance.now(): the first touch of `performance` loads perf_hooks (src/utils/clock.ts).
const started = monotonicMs();
cli.exports.main(process.argv, { optimiseNow: v8Settings.optimiseNow }).then(
  (code) => {
    try {
      // Under the flags the cache was read under.
      v8Settings.asAtStart();
      cli.save(monotonicMs() - started);
    } catch {
      // The cache only saves time: a run that went well must not fail or hang for it.
    }
    // Exit as soon as the run is over: an open stdin pipe or idle keep-alive sockets must not
    // keep the process alive. Output to pipes and files is written synchronously on POSIX.
    process.exit(code);
  },
  // main() answers every mistake of a person's with an exit code; this is dl's own fault.
  (error) => {
    process.stderr.write(`dl: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
