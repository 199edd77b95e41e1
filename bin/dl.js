#!/usr/bin/env node
import { main } from '../dist/cli/main.js';

// Exit as soon as the run is over: an open stdin pipe or idle keep-alive sockets must not
// keep the process alive. Output to pipes and files is written synchronously on POSIX.
process.exit(await main(process.argv));
