import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { forEachJob, openForReading, readJobAt, readJoblog, type JoblogState } from '../../src/joblog/reader.js';
import type { DoneRecord, FailRecord, JobRecord, JoblogRecord, RunRecord } from '../../src/joblog/records.js';

let dir: string;
let log: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dl-reader-'));
  log = join(dir, 'jobs.jsonl');
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const TS = '2024-01-01T00:00:00.000Z';

function job(seq: number, url = `https://example.com/${seq}.jpg`): JobRecord {
  return { t: 'job', seq, url, out: `${seq}.jpg`, src: `list.txt:${seq}` };
}
function done(seq: number, bytes: number): DoneRecord {
  return { t: 'done', seq, ts: TS, bytes, path: `${seq}.jpg`, status: 200 };
}
function fail(seq: number, final: boolean): FailRecord {
  return { t: 'fail', seq, ts: TS, attempt: 1, final, code: 'HTTP_500', error: 'HTTP 500' };
}
function run(inputs: string[]): RunRecord {
  return { t: 'run', v: 1, ts: TS, pid: 1, version: '0.1.0', inputs, options: {} };
}
const eof = (jobs: number): JoblogRecord => ({ t: 'eof', ts: TS, jobs });

/** Writes the records (and raw strings as-is) and returns the byte offset of each entry. */
async function writeLog(entries: Array<JoblogRecord | string>): Promise<number[]> {
  const offsets: number[] = [];
  const parts: string[] = [];
  let size = 0;
  for (const entry of entries) {
    offsets.push(size);
    const part = typeof entry === 'string' ? entry : `${JSON.stringify(entry)}\n`;
    parts.push(part);
    size += Buffer.byteLength(part);
  }
  await writeFile(log, parts.join(''));
  return offsets;
}

const pendingSeqs = (state: JoblogState): number[] => [...state.pending.seqs];
const pendingOffsets = (state: JoblogState): number[] => [...state.pending.offsets];

describe('readJoblog', () => {
  it('reads a missing log as empty', async () => {
    const state = await readJoblog(join(dir, 'nope.jsonl'));
    expect(state).toMatchObject({ jobs: 0, doneCount: 0, failedCount: 0, bytes: 0, resolved: false, badLines: 0, tornBytes: 0, size: 0 });
    expect(pendingSeqs(state)).toEqual([]);
  });

  it('reads an empty log as empty', async () => {
    await writeFile(log, '');
    const state = await readJoblog(log);
    expect(state.jobs).toBe(0);
    expect(state.size).toBe(0);
    expect(pendingSeqs(state)).toEqual([]);
  });

  it('counts jobs, done, failed and bytes, and lists the pending jobs with their offsets', async () => {
    const offsets = await writeLog([
      run(['list.txt']),
      job(1),
      job(2),
      job(3),
      { t: 'start', seq: 1, ts: TS, attempt: 1 },
      done(1, 100),
      job(4),
      fail(2, true),
      done(4, 23),
      job(5),
      fail(5, false),
      eof(5),
    ]);
    const state = await readJoblog(log);
    expect(state.jobs).toBe(5);
    expect(state.doneCount).toBe(2);
    expect(state.failedCount).toBe(1);
    expect(state.bytes).toBe(123);
    expect(state.resolved).toBe(true);
    expect(state.badLines).toBe(0);
    expect(state.tornBytes).toBe(0);
    expect(state.done.has(1)).toBe(true);
    expect(state.done.has(4)).toBe(true);
    expect(state.failed.has(2)).toBe(true);
    expect(pendingSeqs(state)).toEqual([3, 5]);
    expect(pendingOffsets(state)).toEqual([offsets[3], offsets[9]]);
  });

  it('pending offsets point at the job lines (readJobAt reads them back)', async () => {
    await writeLog([run(['a']), job(1, 'https://example.com/\u20ac'), done(1, 1), job(2, 'https://example.com/\ud83d\ude00'), job(3)]);
    const state = await readJoblog(log);
    const handle = await openForReading(log);
    try {
      const back = [];
      for (const offset of state.pending.offsets) back.push(await readJobAt(handle, offset));
      expect(back).toEqual([job(2, 'https://example.com/\ud83d\ude00'), job(3)]);
    } finally {
      await handle.close();
    }
  });

  it('readJobAt reads back lines longer than its buffer, and short ones after them, in any order', async () => {
    const long = job(2, `https://example.com/${'x'.repeat(20_000)}`);
    // A last line cut short: no newline of its own, while the buffer still holds those of the
    // lines read before it, past what this read returns.
    const offsets = await writeLog([job(1), long, job(3), '{"t":"job","seq":4,"url":"https://ex']);
    const handle = await openForReading(log);
    try {
      for (const i of [0, 1, 2, 1, 0, 2, 1]) expect(await readJobAt(handle, offsets[i]!)).toEqual(i === 1 ? long : job(i + 1));
      await expect(readJobAt(handle, offsets[3]!)).rejects.toThrow(/incomplete/);
    } finally {
      await handle.close();
    }
  });

  describe('later records win', () => {
    it('fail (final) then done: done', async () => {
      await writeLog([job(1), fail(1, true), done(1, 50)]);
      const state = await readJoblog(log);
      expect(state.doneCount).toBe(1);
      expect(state.failedCount).toBe(0);
      expect(state.done.has(1)).toBe(true);
      expect(state.failed.has(1)).toBe(false);
      expect(state.bytes).toBe(50);
      expect(pendingSeqs(state)).toEqual([]);
    });

    it('done then fail (final): failed', async () => {
      await writeLog([job(1), done(1, 50), fail(1, true)]);
      const state = await readJoblog(log);
      expect(state.doneCount).toBe(0);
      expect(state.failedCount).toBe(1);
      expect(state.failed.has(1)).toBe(true);
      expect(pendingSeqs(state)).toEqual([]);
    });

    it('fail (non-final) alone: pending', async () => {
      const offsets = await writeLog([job(1), fail(1, false)]);
      const state = await readJoblog(log);
      expect(state.doneCount).toBe(0);
      expect(state.failedCount).toBe(0);
      expect(pendingSeqs(state)).toEqual([1]);
      expect(pendingOffsets(state)).toEqual([offsets[0]]);
    });

    it('fail (final) then fail (non-final): pending', async () => {
      await writeLog([job(1), fail(1, true), fail(1, false)]);
      const state = await readJoblog(log);
      expect(state.failedCount).toBe(0);
      expect(state.failed.has(1)).toBe(false);
      expect(pendingSeqs(state)).toEqual([1]);
    });

    it('done then fail (non-final): pending', async () => {
      await writeLog([job(1), done(1, 10), fail(1, false)]);
      const state = await readJoblog(log);
      expect(state.doneCount).toBe(0);
      expect(state.done.has(1)).toBe(false);
      expect(pendingSeqs(state)).toEqual([1]);
    });

    it('done twice counts once', async () => {
      await writeLog([job(1), done(1, 10), done(1, 10)]);
      const state = await readJoblog(log);
      expect(state.doneCount).toBe(1);
      expect(state.bytes).toBe(10);
    });

    it('fail (final) twice counts once', async () => {
      await writeLog([job(1), fail(1, true), fail(1, true)]);
      expect((await readJoblog(log)).failedCount).toBe(1);
    });

    // Regression (fixed): readJoblog adds `bytes` when a job becomes done but never takes them off when a later
    // record un-does it (a `fail`), so `bytes` counts files of jobs that are not done, and a job
    // that is done again later is counted twice. Reproduce: job 1, done 1 (100 bytes),
    // fail 1 (non-final), done 1 (100 bytes) -> bytes is 200 with one 100-byte file; or job 1,
    // done 1 (100 bytes), fail 1 (final) -> doneCount 0 but bytes 100.
    it('bytes counts only the files of jobs whose last outcome is done', async () => {
      await writeLog([job(1), done(1, 100), fail(1, false), done(1, 100), job(2), done(2, 7), fail(2, true)]);
      const state = await readJoblog(log);
      expect(state.doneCount).toBe(1);
      expect(state.failedCount).toBe(1);
      expect(state.bytes).toBe(100);
    });
  });

  describe('resolved', () => {
    it('is false without an eof record', async () => {
      await writeLog([run(['a']), job(1)]);
      expect((await readJoblog(log)).resolved).toBe(false);
    });

    it('is reset by a later run with inputs and kept by a resume-only run', async () => {
      await writeLog([run(['a']), job(1), eof(1), run([])]);
      expect((await readJoblog(log)).resolved).toBe(true);
      await appendFile(log, `${JSON.stringify(run(['b']))}\n`);
      expect((await readJoblog(log)).resolved).toBe(false);
      await appendFile(log, `${JSON.stringify(eof(1))}\n`);
      expect((await readJoblog(log)).resolved).toBe(true);
    });
  });

  it('counts bad lines without failing and still reads the good ones', async () => {
    await writeLog([
      job(1),
      'not json at all\n',
      '[1,2,3]\n',
      '"a string"\n',
      'null\n',
      '{"seq":2}\n',
      '{"t":"job","seq":2}\n', // no url
      '{"t":"done","seq":0,"bytes":1}\n',
      '{"t":"done","seq":"1","bytes":1}\n',
      '{"t":"job","seq":1.5,"url":"https://x/"}\n',
      job(2),
      done(1, 4),
      '{"t":"future-record","seq":2}\n', // a later version's record type is not bad
    ]);
    const state = await readJoblog(log);
    expect(state.badLines).toBe(9);
    expect(state.jobs).toBe(2);
    expect(state.doneCount).toBe(1);
    expect(state.bytes).toBe(4);
    expect(pendingSeqs(state)).toEqual([2]);
  });

  it('skips empty lines without counting them as bad', async () => {
    await writeLog([job(1), '\n', '\n', job(2)]);
    const state = await readJoblog(log);
    expect(state.badLines).toBe(0);
    expect(state.jobs).toBe(2);
  });

  it('counts torn tail bytes and ignores that line, even if it parses', async () => {
    const complete = `${JSON.stringify(job(1))}\n${JSON.stringify(job(2))}\n`;
    const torn = JSON.stringify(done(1, 9)); // a whole record but no newline yet
    await writeFile(log, complete + torn);
    const state = await readJoblog(log);
    expect(state.tornBytes).toBe(Buffer.byteLength(torn));
    expect(state.size).toBe(Buffer.byteLength(complete));
    expect(state.doneCount).toBe(0);
    expect(state.badLines).toBe(0);
    expect(pendingSeqs(state)).toEqual([1, 2]);
  });

  it('counts torn bytes of a half-written line', async () => {
    const complete = `${JSON.stringify(job(1))}\n`;
    await writeFile(log, `${complete}{"t":"done","se`);
    const state = await readJoblog(log);
    expect(state.tornBytes).toBe(15);
    expect(state.size).toBe(Buffer.byteLength(complete));
    expect(state.badLines).toBe(0);
  });

  it('forEachJob sees every job record, its URL and name, and its offset', async () => {
    const offsets = await writeLog([run(['a']), job(1), done(1, 1), job(2), 'junk\n', job(3)]);
    const seen: Array<[number, number]> = [];
    const urls: string[] = [];
    await forEachJob(log, (await readJoblog(log)).size, (j, offset) => {
      seen.push([j.seq, offset]);
      urls.push(`${j.url} ${j.out}`);
    });
    expect(urls).toEqual([1, 2, 3].map((seq) => `${job(seq).url} ${job(seq).out}`));
    expect(seen).toEqual([
      [1, offsets[1]],
      [2, offsets[3]],
      [3, offsets[5]],
    ]);
  });

  it('forEachJob sees job lines written by other tools, spaced as JSON allows, as readJoblog does', async () => {
    const spaced = `${JSON.stringify(job(1)).replace(/":/g, '": ')}\n`; // {"t": "job", "seq": 1, ...}
    await writeLog([spaced, job(2)]);
    const state = await readJoblog(log);
    const seen: number[] = [];
    await forEachJob(log, state.size, (j) => seen.push(j.seq));
    expect(state.jobs).toBe(2);
    expect(seen).toEqual([1, 2]);
  });

  it('keeps offsets right in a log larger than one read chunk', async () => {
    // About 3 MB: lines straddle the 1 MB read chunks.
    const entries: JoblogRecord[] = [run(['big'])];
    const n = 20_000;
    for (let seq = 1; seq <= n; seq++) {
      entries.push(job(seq, `https://example.com/${'\u00e9'.repeat(seq % 97)}/${'p'.repeat(60)}/${seq}`));
      if (seq % 3 === 0) entries.push(done(seq, 1));
    }
    const offsets = await writeLog(entries);
    const state = await readJoblog(log);
    expect(state.jobs).toBe(n);
    expect(state.doneCount).toBe(Math.floor(n / 3));
    expect(state.badLines).toBe(0);
    expect(state.pending.seqs.length).toBe(n - Math.floor(n / 3));
    const offsetOfSeq = new Map<number, number>();
    entries.forEach((e, i) => {
      if (e.t === 'job') offsetOfSeq.set(e.seq, offsets[i]!);
    });
    for (let i = 0; i < state.pending.seqs.length; i++) {
      const seq = state.pending.seqs[i]!;
      if (state.pending.offsets[i] !== offsetOfSeq.get(seq)) throw new Error(`wrong offset for seq ${seq}`);
    }
    const handle = await openForReading(log);
    try {
      const last = state.pending.seqs.length - 1;
      expect((await readJobAt(handle, state.pending.offsets[last]!)).seq).toBe(state.pending.seqs[last]);
    } finally {
      await handle.close();
    }
  });

  // Regression (fixed): collectPending sizes the pending list as jobs - doneCount - failedCount and stops when
  // it is full. An outcome whose seq has no readable job line (the job line is a bad line, which
  // the reader promises to tolerate) and is above the highest job seq still lowers doneCount, so
  // a real pending job falls off the end of the list and is never run on resume. Reproduce:
  // job 1, job 2, a corrupted job-3 line, done 3 -> pending is [1] instead of [1, 2].
  it('does not lose pending jobs when an outcome has no readable job line', async () => {
    await writeLog([job(1), job(2), '{"t":"job","seq":3,"url":\n', done(3, 1)]);
    const state = await readJoblog(log);
    expect(state.badLines).toBe(1);
    expect(pendingSeqs(state)).toEqual([1, 2]);
  });
});

describe('readJobAt', () => {
  it('reads the job at an offset', async () => {
    const offsets = await writeLog([run(['a']), job(1), job(2)]);
    const handle = await openForReading(log);
    try {
      expect(await readJobAt(handle, offsets[2]!)).toEqual(job(2));
      expect(await readJobAt(handle, offsets[1]!)).toEqual(job(1));
    } finally {
      await handle.close();
    }
  });

  it('reads a job line longer than its first read', async () => {
    const long = job(1, `https://example.com/${'a'.repeat(50_000)}`);
    const offsets = await writeLog([run(['a']), long, job(2)]);
    const handle = await openForReading(log);
    try {
      expect(await readJobAt(handle, offsets[1]!)).toEqual(long);
    } finally {
      await handle.close();
    }
  });

  it('throws when the line at the offset is not a job', async () => {
    const offsets = await writeLog([run(['a']), job(1)]);
    const handle = await openForReading(log);
    try {
      await expect(readJobAt(handle, offsets[0]!)).rejects.toThrow(/no job record/);
    } finally {
      await handle.close();
    }
  });

  it('throws when the line at the offset has no end', async () => {
    await writeFile(log, `${JSON.stringify(job(1))}\n${JSON.stringify(job(2))}`);
    const handle = await openForReading(log);
    try {
      await expect(readJobAt(handle, Buffer.byteLength(`${JSON.stringify(job(1))}\n`))).rejects.toThrow(/incomplete/);
    } finally {
      await handle.close();
    }
  });
});

describe('a log larger than one read', () => {
  it('finds every job line at its offset, also lines split between two reads', async () => {
    // About 12 MiB of job lines of varying length, a third of them done: many lines straddle
    // the reader's 4 MiB reads, and every pending job's offset must point at its own line.
    const records: string[] = [];
    for (let seq = 1; seq <= 60_000; seq++) {
      records.push(`${JSON.stringify({ ...job(seq), url: `http://example.org/${'x'.repeat(seq % 97)}/${seq}` })}\n`);
      if (seq % 3 === 0) records.push(`${JSON.stringify(done(seq, seq))}\n`);
    }
    await writeFile(log, records.join(''));
    const state = await readJoblog(log);
    expect(state.jobs).toBe(60_000);
    expect(state.doneCount).toBe(20_000);
    expect(state.pending.seqs.length).toBe(40_000);
    const handle = await openForReading(log);
    try {
      for (let i = 0; i < state.pending.seqs.length; i += 97) {
        const record = await readJobAt(handle, state.pending.offsets[i]!);
        expect(record.seq).toBe(state.pending.seqs[i]);
      }
    } finally {
      await handle.close();
    }
    let count = 0;
    await forEachJob(log, state.size, (j, offset) => {
      count++;
      if (j.seq === 59_999) expect(offset).toBe(state.pending.offsets[state.pending.seqs.indexOf(59_999)]);
    });
    expect(count).toBe(60_000);
  });
});
