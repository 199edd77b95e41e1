import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
/** The bundles' stand-in for node:module (scripts/bundle/module-later.cjs). */
const moduleLater = createRequire(import.meta.url)(join(root, 'scripts', 'bundle', 'module-later.cjs')) as {
  createRequire(from: string): (id: string) => unknown;
};

describe('module-later', () => {
  const bundleRequire = moduleLater.createRequire(join(root, 'dist', 'cli.cjs'));

  it("loads Node's modules with and without their prefix, and packages, as Node's own createRequire does", () => {
    const nodeRequire = createRequire(join(root, 'dist', 'cli.cjs'));
    for (const id of ['node:fs', 'events', 'readline', 'tldts', 'commander']) expect(bundleRequire(id)).toBe(nodeRequire(id));
  });

  it('resolves a relative path from the file it was made for', () => {
    const relative = bundleRequire('../package.json') as { name: string };
    expect(relative.name).toBe('dl');
    const fromElsewhere = moduleLater.createRequire(join(root, 'scripts', 'bundle', 'x.cjs'))('./module-later.cjs');
    expect(fromElsewhere).toBe(moduleLater);
  });
});
