import { link, lstat, mkdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/index.js';
import { useTempDirs, waitFor } from '../helpers/cli.js';
import { expectedBody, hostileHandler, sizedPath } from '../helpers/hostile-server.js';
import { useServer } from '../helpers/server.js';

/** Links someone planted in the destination folder must never make dl write outside it. */
describe('links planted in the destination folder', () => {
  const server = useServer(hostileHandler());
  const tempDir = useTempDirs('dl-links-');

  async function setup(paths: string[]) {
    const dir = await tempDir();
    const out = join(dir, 'out');
    await mkdir(out);
    const outside = join(dir, 'outside.txt');
    await writeFile(outside, 'must stay as it is');
    await writeFile(join(dir, 'urls.txt'), paths.map((p) => server.url(p)).join('\n'));
    const options = { inputs: [join(dir, 'urls.txt')], joblog: join(dir, 'run.jsonl'), destdir: out, retryWaitMs: 10 };
    return { dir, out, outside, options };
  }

  const nameOf = (path: string) => path.slice(path.lastIndexOf('/') + 1);

  it.each([
    ['a small body written in one go', sizedPath('/clean/', 1000)],
    ['a slow body streamed to .part', sizedPath('/slow/40/', 30_000)],
  ])('a symlink or a hard link at the .part name: %s', async (_, path) => {
    for (const plant of [symlink, link] as const) {
      const { out, outside, options } = await setup([path]);
      await plant(outside, join(out, `${nameOf(path)}.part`));
      expect(await run(options)).toMatchObject({ done: 1 });
      expect(await readFile(outside, 'utf8')).toBe('must stay as it is');
      expect((await readFile(join(out, nameOf(path)))).equals(expectedBody(path))).toBe(true);
    }
  });

  it('a symlink at the final name is never written through: another name, or replaced', async () => {
    const path = '/clean/final.bin';
    // Default (--on-conflict rename): the job takes another name, the link stays as it was.
    const renamed = await setup([path]);
    await symlink(renamed.outside, join(renamed.out, 'final.bin'));
    expect(await run(renamed.options)).toMatchObject({ done: 1 });
    expect(await readFile(renamed.outside, 'utf8')).toBe('must stay as it is');
    expect((await readFile(join(renamed.out, 'final.1.bin'))).equals(expectedBody(path))).toBe(true);
    // --on-conflict overwrite: the rename replaces the link itself.
    const replaced = await setup([path]);
    await symlink(replaced.outside, join(replaced.out, 'final.bin'));
    expect(await run({ ...replaced.options, onConflict: 'overwrite' })).toMatchObject({ done: 1 });
    expect(await readFile(replaced.outside, 'utf8')).toBe('must stay as it is');
    expect((await lstat(join(replaced.out, 'final.bin'))).isSymbolicLink()).toBe(false);
  });

  it('a link put where a resumable .part was is not resumed into', async () => {
    const path = sizedPath('/slow/40/', 30_000);
    const { out, outside, options } = await setup([path]);
    const part = join(out, `${nameOf(path)}.part`);
    const controller = new AbortController();
    const first = run({ ...options, signal: controller.signal });
    await waitFor(async () => ((await stat(part).catch(() => undefined))?.size ?? 0) > 4096, 30_000, '.part to grow');
    controller.abort();
    await first;
    await rm(part);
    await symlink(outside, part);
    const before = server.log.length;
    expect(await run(options)).toMatchObject({ done: 1 });
    expect(server.log.slice(before).filter((r) => r.range)).toEqual([]); // started over, no Range
    expect(await readFile(outside, 'utf8')).toBe('must stay as it is');
    expect((await readFile(join(out, nameOf(path)))).equals(expectedBody(path))).toBe(true);
  });
});
