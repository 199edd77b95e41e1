import { createRequire } from 'node:module';
import { packageFile } from './package-root.js';

/** dl's own version, from its package.json. */
export const VERSION: string = (createRequire(import.meta.url)(packageFile('package.json')) as { version: string }).version;
