import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run, type RunOptions } from '../../src/index.js';
import { withTempDir } from '../helpers/cli.js';

describe('limits given to run()', () => {
  it.each<[string, Partial<RunOptions>, string]>([
    ['no workers', { workers: 0 }, 'workers must be a whole number of at least 1 (got 0)'],
    ['a fraction per host', { perHost: 1.5 }, 'perHost must be a whole number of at least 1 (got 1.5)'],
    ['NaN per site', { perSite: Number('x') }, 'perSite must be a whole number of at least 1 (got NaN)'],
    ['a host limit of 0', { hostLimits: new Map([['example.org:80', 0]]) }, 'hostLimits for example.org:80 must be a whole number of at least 1 (got 0)'],
    ['a negative site limit', { siteLimits: new Map([['example.org', -2]]) }, 'siteLimits for example.org must be a whole number of at least 1 (got -2)'],
  ])('refuses %s before touching the joblog', (_, limits, message) =>
    withTempDir(async (dir) => {
      await writeFile(join(dir, 'urls.txt'), 'http://127.0.0.1:9/a.bin\n');
      const joblog = join(dir, 'run.jsonl');
      await expect(run({ inputs: [join(dir, 'urls.txt')], joblog, destdir: join(dir, 'out'), ...limits })).rejects.toMatchObject({ code: 'USAGE', message });
      expect(existsSync(joblog)).toBe(false);
    }));
});
