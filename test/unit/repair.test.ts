import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { repairTornTail } from '../../src/joblog/repair.js';

let dir: string;
let log: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dl-repair-'));
  log = join(dir, 'jobs.jsonl');
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('repairTornTail', () => {
  it('returns 0 for a missing file and does not create it', async () => {
    expect(await repairTornTail(log)).toBe(0);
    await expect(stat(log)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('returns 0 for an empty file', async () => {
    await writeFile(log, '');
    expect(await repairTornTail(log)).toBe(0);
    expect((await stat(log)).size).toBe(0);
  });

  it('returns 0 and leaves a file that ends with a newline unchanged', async () => {
    const good = '{"t":"job","seq":1,"url":"https://a/"}\n{"t":"done","seq":1}\n';
    await writeFile(log, good);
    expect(await repairTornTail(log)).toBe(0);
    expect(await readFile(log, 'utf8')).toBe(good);
  });

  it('truncates to just after the last newline and returns the dropped byte count', async () => {
    const good = '{"t":"job","seq":1,"url":"https://a/"}\n';
    const torn = '{"t":"done","seq":1,"byt';
    await writeFile(log, good + torn);
    expect(await repairTornTail(log)).toBe(Buffer.byteLength(torn));
    expect(await readFile(log, 'utf8')).toBe(good);
    // A second repair has nothing to do.
    expect(await repairTornTail(log)).toBe(0);
  });

  it('counts dropped bytes, not characters', async () => {
    const good = '{"t":"run","v":1}\n';
    const torn = '{"url":"\u20ac\ud83d\ude00';
    await writeFile(log, good + torn);
    expect(await repairTornTail(log)).toBe(Buffer.byteLength(torn));
    expect(await readFile(log, 'utf8')).toBe(good);
  });

  it('truncates a log torn within its first record to empty', async () => {
    for (const torn of ['{"t":"run","v":1,"ts', '{"t', '{']) {
      await writeFile(log, torn);
      expect(await repairTornTail(log)).toBe(torn.length);
      expect((await stat(log)).size).toBe(0);
    }
  });

  it('refuses a file that does not begin as a joblog, and leaves it as it was', async () => {
    // A URL list or a document given to --joblog by mistake, torn-looking or not.
    for (const text of ['http://a/1.bin\nhttp://a/2.bin', 'my notes\nmy precious last line', '\u007fELF\u0002\u0001', '[{"t":"run"}]\n']) {
      await writeFile(log, text);
      await expect(repairTornTail(log), text).rejects.toMatchObject({ code: 'JOBLOG', message: expect.stringContaining('is not a joblog') });
      expect(await readFile(log, 'utf8')).toBe(text);
    }
  });

  it('finds the last newline further back than one read block', async () => {
    const good = `{"t":"job","out":"${'x'.repeat(1000)}"}\n`;
    const torn = 'y'.repeat(200 * 1024); // more than the 64 KiB block
    await writeFile(log, good + torn);
    expect(await repairTornTail(log)).toBe(torn.length);
    expect(await readFile(log, 'utf8')).toBe(good);
  });

  it('handles a newline exactly at a block boundary', async () => {
    const block = 64 * 1024;
    const good = `{"t":"job","out":"${'x'.repeat(block - 21)}"}\n`; // exactly one block
    const torn = 'z'.repeat(block);
    await writeFile(log, good + torn);
    expect(await repairTornTail(log)).toBe(block);
    expect((await stat(log)).size).toBe(block);
  });
});
