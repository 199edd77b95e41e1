import { readFileSync } from 'node:fs';
import { packageFile } from './package-root.js';

/** dl's own version, from its package.json (read as a file: no require, see scripts/bundle/module-later.cjs). */
export const VERSION: string = (JSON.parse(readFileSync(packageFile('package.json'), 'utf8')) as { version: string }).version;
