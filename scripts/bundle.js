#!/usr/bin/env node
// The CLI as one file (dist/cli.cjs), which bin/dl.cjs runs. Node resolves, reads and links each
// ES module on its own: the ~90 modules of dl and the parts of its dependencies that a run
// loads took 55 ms of every run's start-up on top of the bundle's (docs/architecture.md). The
// library (dist/index.js and the rest of dist/) stays as tsc writes it. CommonJS, because V8's
// code cache (src/cli/code-cache.ts) is reachable from Node 20 only through vm.Script, which
// runs scripts, not ES modules; Node's ES module loader also took 15-20 ms more to load it.
// The loader of that cache (with the rest of what bin/dl.cjs runs first) is a CommonJS file of
// its own (dist/cli/start-up.cjs), so that a run never starts Node's ES module loader at all:
// 12-14 ms of every run.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

// "use strict" first, as the ES modules they are made from were strict. esbuild's own directive
// comes after a banner, where it is no longer one.
const moduleLater = join(root, 'scripts', 'bundle', 'module-later.cjs');
const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  logLevel: 'warning',
  banner: { js: "'use strict';" },
  plugins: [
    {
      // node:module's createRequire, node:module loaded only when a package or a file is required (see the module).
      name: 'module-later',
      setup(build) {
        build.onResolve({ filter: /^node:module$/ }, ({ importer }) => (importer === moduleLater ? undefined : { path: moduleLater }));
      },
    },
  ],
};

await build({
  ...common,
  entryPoints: [join(root, 'src', 'cli', 'start-up.ts')],
  outfile: join(root, 'dist', 'cli', 'start-up.cjs'),
});

await build({
  ...common,
  entryPoints: [join(root, 'src', 'cli', 'main.ts')],
  outfile: join(root, 'dist', 'cli.cjs'),
  // dl's modules find their package.json and lazily required packages from import.meta.url.
  define: { 'import.meta.url': 'bundleUrl' },
  banner: { js: "'use strict';\nconst bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  plugins: [
    ...common.plugins,
    {
      // commander's child_process, loaded on first use (see the module).
      name: 'child-process-later',
      setup(build) {
        build.onResolve({ filter: /^node:child_process$/ }, ({ importer }) =>
          importer.includes(join('node_modules', 'commander')) ? { path: join(root, 'scripts', 'bundle', 'child-process-later.cjs') } : undefined,
        );
      },
    },
  ],
});
