import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

/** End-to-end tests spawn bin/dl.cjs, which runs dist/cli.cjs: build it from the current sources first, as `npm run build` does. */
export default function setup(): void {
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: resolve(import.meta.dirname, '..'), stdio: 'inherit' });
}
