#!/usr/bin/env node
// The CLI as one file (dist/cli.js), which bin/dl.js runs. Node resolves, reads and links each
// ES module on its own: the ~90 modules of dl and the parts of its dependencies that a run
// loads took 55 ms of every run's start-up on top of the bundle's (docs/architecture.md). The
// library (dist/index.js and the rest of dist/) stays as tsc writes it.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

await build({
  entryPoints: [join(root, 'src', 'cli', 'main.ts')],
  outfile: join(root, 'dist', 'cli.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // undici is CommonJS and requires Node's modules: an ES module bundle needs a `require`.
  banner: { js: "import { createRequire as createRequireForBundle } from 'node:module';\nconst require = createRequireForBundle(import.meta.url);" },
  logLevel: 'warning',
});
