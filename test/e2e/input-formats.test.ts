import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRecords, runCli, withTempDir } from '../helpers/cli.js';
import { contentFor, useServer } from '../helpers/server.js';
import { namesSharingA32BitHash } from '../helpers/hash-collision.js';

describe('aria2 and JSON Lines input files', () => {
  const headersOf = new Map<string, IncomingHttpHeaders>();
  const server = useServer((req, res) => {
    const path = req.url ?? '/';
    headersOf.set(path, req.headers);
    const body = contentFor(path);
    res.writeHead(200, { 'content-length': body.length }).end(body);
  });
  const sha = (algorithm: string, path: string) => createHash(algorithm).update(contentFor(path)).digest('hex');

  it('a fragment, empty or not, is no part of a job; a log that kept an empty one still counts', async () => {
    await withTempDir(async (dir) => {
      const ts = new Date().toISOString();
      const url = server.url('/frag/a.bin');
      // As logs were written before an empty fragment was dropped: the job's URL ends in '#'.
      const old = [
        { t: 'run', v: 1, ts, pid: 1, version: 'old', inputs: ['list.txt'], options: {} },
        { t: 'job', seq: 1, url: `${url}#`, out: 'a.bin', src: 'list.txt:1' },
        { t: 'start', seq: 1, ts, attempt: 1 },
        { t: 'done', seq: 1, ts, bytes: 3, path: 'a.bin', status: 200 },
      ];
      await writeFile(join(dir, 'run.jsonl'), old.map((r) => `${JSON.stringify(r)}\n`).join(''));
      await writeFile(join(dir, 'list.txt'), `${url}#\n${url}\n${url}#part-2\n${server.url('/frag/b.bin')}#\n`);
      const result = await runCli(['-l', 'run.jsonl', '-d', 'out', 'list.txt'], dir);
      expect(result.code).toBe(0);
      const jobs = (await readRecords(join(dir, 'run.jsonl'))).filter((r) => r.t === 'job');
      expect(jobs.map((j) => j.url)).toEqual([`${url}#`, server.url('/frag/b.bin')]);
      expect(server.requests).not.toContain('/frag/a.bin');
      expect(server.requests).toContain('/frag/b.bin');
    });
  });

  it('honours out, dir, checksum and header; a rerun adds nothing; another name is another job', async () => {
    await withTempDir(async (dir) => {
      const aria2 = [
        `${server.url('/iso/file.iso')}\t${server.url('/mirror/file.iso')}`,
        '  dir=/iso_images',
        '  out=file.img',
        `  checksum=sha-256=${sha('sha256', '/iso/file.iso')}`,
        '  header=X-Job: one',
        '  split=4',
        server.url('/plain/bar.bin'),
      ].join('\n');
      await writeFile(join(dir, 'list.aria2'), aria2);
      const jsonl = [
        JSON.stringify({ url: server.url('/j/1.bin'), out: 'first.bin', dir: 'books/1', checksum: `sha-1=${sha('sha1', '/j/1.bin')}`, headers: { 'X-Job': 'two' } }),
        JSON.stringify({ url: server.url('/j/2.bin') }),
      ].join('\n');
      await writeFile(join(dir, 'list.jsonl'), jsonl);

      const first = await runCli(['-l', 'run.jsonl', '-d', 'out', 'list.aria2', 'list.jsonl'], dir);
      expect(first.code).toBe(0);
      expect(first.stderr).toContain('list.aria2:6: ignoring aria2 option "split"');
      expect((await readFile(join(dir, 'out', 'iso_images', 'file.img'))).equals(contentFor('/iso/file.iso'))).toBe(true);
      expect((await readFile(join(dir, 'out', 'bar.bin'))).equals(contentFor('/plain/bar.bin'))).toBe(true);
      expect((await readFile(join(dir, 'out', 'books', '1', 'first.bin'))).equals(contentFor('/j/1.bin'))).toBe(true);
      expect((await readFile(join(dir, 'out', '2.bin'))).equals(contentFor('/j/2.bin'))).toBe(true);
      expect(headersOf.get('/iso/file.iso')!['x-job']).toBe('one');
      expect(headersOf.get('/j/1.bin')!['x-job']).toBe('two');
      expect(headersOf.get('/j/2.bin')!['x-job']).toBeUndefined();
      expect(headersOf.has('/mirror/file.iso')).toBe(false);
      const jobs = (await readRecords(join(dir, 'run.jsonl'))).filter((r) => r.t === 'job');
      expect(jobs[0]).toMatchObject({ out: 'iso_images/file.img', dir: 'iso_images', named: true, src: 'list.aria2:1', checksum: `sha-256=${sha('sha256', '/iso/file.iso')}` });

      // The same inputs again: the same jobs, nothing requested.
      const before = server.requests.length;
      expect((await runCli(['-l', 'run.jsonl', '-d', 'out', 'list.aria2', 'list.jsonl'], dir)).code).toBe(0);
      expect(server.requests.length).toBe(before);
      // The same URL under another name is another job.
      await writeFile(join(dir, 'again.jsonl'), JSON.stringify({ url: server.url('/j/2.bin'), out: 'copy.bin' }));
      expect((await runCli(['-l', 'run.jsonl', '-d', 'out', 'again.jsonl'], dir)).code).toBe(0);
      expect((await readFile(join(dir, 'out', 'copy.bin'))).equals(contentFor('/j/2.bin'))).toBe(true);
    });
  });

  it('a checksum mismatch is retried, then fails with CHECKSUM_MISMATCH, and no file appears', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'list.jsonl'), JSON.stringify({ url: server.url('/bad/sum.bin'), checksum: `sha-256=${'0'.repeat(64)}` }));
      const result = await runCli(['--retries', '1', '--retry-wait', '0.01', '-l', 'run.jsonl', '-d', 'out', 'list.jsonl'], dir);
      expect(result.code).toBe(1);
      const fails = (await readRecords(join(dir, 'run.jsonl'))).filter((r) => r.t === 'fail');
      expect(fails.map((r) => [r.code, r.final])).toEqual([
        ['CHECKSUM_MISMATCH', false],
        ['CHECKSUM_MISMATCH', true],
      ]);
      expect(await readdir(join(dir, 'out'))).toEqual([]);
    });
  });

  it('refuses names and folders that would leave the destination folder, and writes nothing outside it', async () => {
    await withTempDir(async (dir) => {
      await mkdir(join(dir, 'out'));
      await mkdir(join(dir, 'elsewhere'));
      await symlink(join(dir, 'elsewhere'), join(dir, 'out', 'trap'));
      const lines = [
        { url: server.url('/e/1.bin'), out: '../../escape-1.bin' },
        { url: server.url('/e/2.bin'), dir: 'a/../../..' },
        { url: server.url('/e/3.bin'), out: 'C:\\Windows\\escape-3.bin' },
        { url: server.url('/e/4.bin'), out: 'nul\u0000byte.bin' },
        { url: server.url('/e/5.bin'), checksum: 'crc32=1234' },
        { url: server.url('/e/6.bin'), dir: 'trap' },
        { url: server.url('/e/7.bin'), out: '/etc/passwd' },
      ].map((entry) => JSON.stringify(entry));
      await writeFile(join(dir, 'list.jsonl'), lines.join('\n'));
      const result = await runCli(['-l', 'run.jsonl', '-d', 'out', 'list.jsonl'], dir);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('list.jsonl:1: out= may not climb out with ".."');
      expect(result.stderr).toContain('list.jsonl:2: dir= may not climb out with ".."');
      expect(result.stderr).toContain('list.jsonl:3: out= names a drive');
      expect(result.stderr).toContain('list.jsonl:4: out= contains a NUL byte');
      expect(result.stderr).toContain('list.jsonl:5: checksum must be sha-256=HEX');
      expect(result.stderr).toMatch(/failed: .*\/e\/6\.bin: refusing to write through .*trap: it leads outside the destination folder \[UNSAFE_PATH\]/);
      // An absolute out= counts from the destination folder.
      expect((await readFile(join(dir, 'out', 'etc', 'passwd'))).equals(contentFor('/e/7.bin'))).toBe(true);
      expect(await readdir(join(dir, 'elsewhere'))).toEqual([]);
      expect((await readdir(dir)).sort()).toEqual(['elsewhere', 'list.jsonl', 'out', 'run.jsonl']);
    });
  });
});

describe('--on-conflict: a file this joblog did not write has a new job\'s name', () => {
  const server = useServer((req, res) => {
    const body = contentFor(req.url ?? '/');
    res.writeHead(200, { 'content-length': body.length }).end(body);
  });

  it.each([
    ['rename', 'theirs', ['photo.1.jpg', 'photo.jpg']],
    ['skip', 'theirs', ['photo.jpg']],
    ['overwrite', 'ours', ['photo.jpg']],
  ] as const)('%s', async (policy, inPhoto, files) => {
    await withTempDir(async (dir) => {
      await mkdir(join(dir, 'out'));
      await writeFile(join(dir, 'out', 'photo.jpg'), 'theirs');
      await writeFile(join(dir, 'urls.txt'), server.url('/p/photo.jpg'));
      const before = server.requests.length;
      const result = await runCli(['--on-conflict', policy, '-l', 'run.jsonl', '-d', 'out', 'urls.txt'], dir);
      expect(result.code).toBe(0);
      expect((await readdir(join(dir, 'out'))).sort()).toEqual([...files].sort());
      const photo = await readFile(join(dir, 'out', 'photo.jpg'));
      expect(inPhoto === 'theirs' ? photo.toString() : photo.equals(contentFor('/p/photo.jpg'))).toBe(inPhoto === 'theirs' ? 'theirs' : true);
      if (policy === 'rename') expect((await readFile(join(dir, 'out', 'photo.1.jpg'))).equals(contentFor('/p/photo.jpg'))).toBe(true);
      expect(server.requests.length - before).toBe(policy === 'skip' ? 0 : 1);
      // Decided once: the same command again changes nothing and requests nothing.
      const again = await runCli(['--on-conflict', policy, '-l', 'run.jsonl', '-d', 'out', 'urls.txt'], dir);
      expect(again.code).toBe(0);
      expect(server.requests.length - before).toBe(policy === 'skip' ? 0 : 1);
      const status = JSON.parse((await runCli(['-l', 'run.jsonl', '--status', '--json'], dir)).stdout) as Record<string, unknown>;
      expect(status).toMatchObject({ jobs: 1, done: 1, pending: 0 });
    });
  });
});

describe('--on-conflict skip: a name that only shares a hash with a file there is downloaded', () => {
  const server = useServer((req, res) => {
    const body = contentFor(req.url ?? '/');
    res.writeHead(200, { 'content-length': body.length }).end(body);
  });

  it('fetches the file that is not there', async () => {
    const [there, absent] = namesSharingA32BitHash();
    await withTempDir(async (dir) => {
      await mkdir(join(dir, 'out'));
      await writeFile(join(dir, 'out', there), 'theirs');
      // Only the absent name is a job: two jobs sharing a hash would tell each other apart by
      // suffix instead (name-allocator.ts).
      await writeFile(join(dir, 'urls.txt'), `${server.url(`/h/${absent}`)}\n`);
      const result = await runCli(['--on-conflict', 'skip', '-l', 'run.jsonl', '-d', 'out', 'urls.txt'], dir);
      expect(result.code).toBe(0);
      expect((await readFile(join(dir, 'out', there))).toString()).toBe('theirs');
      expect((await readFile(join(dir, 'out', absent))).equals(contentFor(`/h/${absent}`))).toBe(true);
      expect(server.requests).toEqual([`/h/${absent}`]);
    });
  });
});

describe('--content-disposition', () => {
  const dispositions: Record<string, string> = {
    '/cd/1.bin': 'attachment; filename="report.pdf"',
    '/cd/2.bin': "attachment; filename*=UTF-8''na%C3%AFve%20caf%C3%A9.txt",
    // Raw UTF-8 bytes in a plain filename, as many servers send them.
    '/cd/3.bin': `attachment; filename="${Buffer.from('été.txt').toString('latin1')}"`,
    '/cd/4.bin': 'attachment; filename="../../evil.txt"',
    '/cd/5.bin': 'attachment; filename="same.bin"',
    '/cd/6.bin': 'attachment; filename="same.bin"',
    '/cd/retry/1.bin': 'attachment; filename="retried.pdf"',
  };
  const requests = new Map<string, number>();
  const server = useServer((req, res) => {
    const path = req.url ?? '/';
    const body = contentFor(path);
    const disposition = dispositions[path];
    const nth = (requests.get(path) ?? 0) + 1;
    requests.set(path, nth);
    res.writeHead(200, { 'content-length': body.length, ...(disposition ? { 'content-disposition': disposition } : {}) });
    // The first answer for /cd/retry/ breaks off half-way: the job is tried again.
    if (path.startsWith('/cd/retry/') && nth === 1) {
      res.write(body.subarray(0, body.length >> 1));
      setImmediate(() => res.socket?.destroy());
      return;
    }
    res.end(body);
  });

  it('a retried job keeps the name it claimed, rather than claiming the next one', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'urls.txt'), server.url('/cd/retry/1.bin'));
      expect((await runCli(['--content-disposition', '-l', 'run.jsonl', '-d', 'out', 'urls.txt'], dir)).code).toBe(0);
      expect(requests.get('/cd/retry/1.bin')).toBe(2);
      expect((await readdir(join(dir, 'out'))).sort()).toEqual(['retried.pdf']);
      const records = await readRecords(join(dir, 'run.jsonl'));
      expect(records.find((r) => r.t === 'done')?.path).toBe('retried.pdf');
    });
  });

  it('names files after the header, safely, distinctly, and records the name', async () => {
    await withTempDir(async (dir) => {
      const paths = [...Object.keys(dispositions).filter((p) => !p.startsWith('/cd/retry/')), '/cd/7.bin'];
      await writeFile(join(dir, 'urls.txt'), paths.map((p) => server.url(p)).join('\n'));
      expect((await runCli(['--content-disposition', '-l', 'run.jsonl', '-d', 'out', 'urls.txt'], dir)).code).toBe(0);
      const names = ['report.pdf', 'naïve café.txt', 'été.txt', 'evil.txt', 'same.bin', 'same.1.bin', '7.bin'];
      expect((await readdir(join(dir, 'out'))).sort()).toEqual([...names].sort());
      const records = await readRecords(join(dir, 'run.jsonl'));
      const doneBySeq = new Map(records.filter((r) => r.t === 'done').map((r) => [r.seq, r.path]));
      // The two answers named alike race for the plain name: whichever comes first gets it.
      if (doneBySeq.get(5) === 'same.1.bin') [names[4], names[5]] = [names[5]!, names[4]!];
      paths.forEach((path, i) => expect(doneBySeq.get(i + 1), path).toBe(names[i]));
      for (const [i, path] of paths.entries()) {
        expect((await readFile(join(dir, 'out', names[i]!))).equals(contentFor(path)), path).toBe(true);
      }
      expect((await readdir(dir)).sort()).toEqual(['out', 'run.jsonl', 'urls.txt']);

      // Without the option, names come from the URLs.
      const plain = await runCli(['-l', 'plain.jsonl', '-d', 'out2', 'urls.txt'], dir);
      expect(plain.code).toBe(0);
      expect((await readdir(join(dir, 'out2'))).sort()).toEqual(paths.map((p) => p.slice(4)).sort());
    });
  });
});
