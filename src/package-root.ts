import { fileURLToPath } from 'node:url';

/**
 * The path of a file of dl's package, from its root. This module is one level below the root
 * wherever it runs from (src/, dist/, or bundled into dist/cli.cjs).
 */
export function packageFile(relative: string): string {
  return fileURLToPath(new URL(`../${relative}`, import.meta.url));
}
