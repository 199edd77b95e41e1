/**
 * What bin/dl.cjs runs before the CLI: one small CommonJS file of its own (scripts/bundle.js,
 * `dist/cli/start-up.cjs`), so that a run never starts Node's ES module loader.
 */
export { requireWithCodeCache } from './code-cache.js';
export { optimiseLater } from './optimise-later.js';
export { capYoungGeneration } from './young-generation.js';
