#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8';

// undici parses HTTP with a WebAssembly module. V8 compiles it a second time, optimised, on a
// background thread, and a process cannot exit before that compilation ends: 100-150 ms added
// to every run here, for a parser that is rarely the bottleneck of a download. The baseline
// compiler alone is as fast for dl's runs (docs/architecture.md). Set before undici loads.
setFlagsFromString('--liftoff-only');
// The CLI bundled into one file (scripts/bundle.js): a quicker start than its ~90 modules.
const { main } = await import('../dist/cli.js');

// Exit as soon as the run is over: an open stdin pipe or idle keep-alive sockets must not
// keep the process alive. Output to pipes and files is written synchronously on POSIX.
process.exit(await main(process.argv));
