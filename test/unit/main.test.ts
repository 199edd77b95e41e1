import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { withTempDir } from '../helpers/cli.js';

describe('main', () => {
  it('reports unhandled rejections through one listener, however often it runs in a process', async () => {
    const before = process.listenerCount('unhandledRejection');
    for (let i = 0; i < 12; i++) expect(await main(['node', 'dl', '--no-such-option'])).toBe(2);
    expect(process.listenerCount('unhandledRejection')).toBe(before + 1);
  });

  it('asks for optimised code at once for --status and --dry-run, whose time is all JavaScript, and not for a download', async () => {
    await withTempDir(async (dir) => {
      const asked: string[] = [];
      const run = (...args: string[]) => main(['node', 'dl', '-q', ...args], { optimiseNow: () => asked.push(args.join(' ')) });
      await writeFile(join(dir, 'urls.txt'), '');
      const log = join(dir, 'run.jsonl');
      expect(await run('--dry-run', '-l', log, '-d', join(dir, 'out'), join(dir, 'urls.txt'))).toBe(0);
      expect(await run('--status', '-l', log)).toBe(0);
      expect(await run('-l', log, '-d', join(dir, 'out'), join(dir, 'urls.txt'))).toBe(0);
      expect(asked).toEqual([`--dry-run -l ${log} -d ${join(dir, 'out')} ${join(dir, 'urls.txt')}`, `--status -l ${log}`]);
    });
  });

  it('asks for it too for a download that first reads a joblog of over 64 MiB', async () => {
    await withTempDir(async (dir) => {
      const log = join(dir, 'big.jsonl');
      const lines: string[] = [];
      for (let seq = 1; seq <= 330_000; seq++) {
        lines.push(`{"t":"job","seq":${seq},"url":"http://127.0.0.1:9/a/long/path/to/a/file/${seq}.bin","out":"${seq}.bin","src":"urls.txt:${seq}"}`);
        lines.push(`{"t":"done","seq":${seq},"ts":"2026-01-01T00:00:00.000Z","bytes":1,"path":"${seq}.bin","status":200}`);
      }
      await writeFile(log, `${lines.join('\n')}\n`);
      expect((await stat(log)).size).toBeGreaterThan(64 * 2 ** 20);
      await writeFile(join(dir, 'urls.txt'), '');
      let asked = 0;
      expect(await main(['node', 'dl', '-q', '-l', log, '-d', join(dir, 'out'), join(dir, 'urls.txt')], { optimiseNow: () => asked++ })).toBe(0);
      expect(asked).toBe(1);
    });
  });
});
