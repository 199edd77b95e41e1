import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

/** End-to-end tests spawn bin/dl.js, which runs dist/cli.js: build it from the current sources first. */
export default function setup(): void {
  const root = resolve(import.meta.dirname, '..');
  execFileSync(process.execPath, [resolve(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
  execFileSync(process.execPath, [resolve(root, 'scripts/bundle.js')], { cwd: root, stdio: 'inherit' });
}
