#!/usr/bin/env node
// `npm run demo`: starts a local HTTP server (three hosts on 127.0.0.1, one of them slow, a few
// URLs that fail), downloads a few hundred files from it with dl, then prints `dl --status`.
// Needs no network beyond loopback. Files land in .demo/ (removed at the start of every demo).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const work = join(root, '.demo');
const bin = join(root, 'bin', 'dl.cjs');

function body(path) {
  const size = 2048 + (createHash('sha1').update(path).digest().readUInt16BE(0) % 60000);
  return Buffer.alloc(size, path);
}

function listen(delayMs) {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://demo').pathname;
    const send = () => {
      if (path.startsWith('/missing/')) {
        res.writeHead(404).end('not here');
        return;
      }
      if (path.startsWith('/broken/')) {
        res.writeHead(500).end('server error');
        return;
      }
      const data = body(path);
      res.writeHead(200, { 'content-length': data.length, 'content-type': 'application/octet-stream' });
      res.end(data);
    };
    if (delayMs) setTimeout(send, delayMs);
    else send();
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok(server)));
}

function run(args, options = {}) {
  return new Promise((ok) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: work, stdio: ['ignore', 'inherit', 'inherit'], ...options });
    child.on('close', (code) => ok(code));
  });
}

const fast = await Promise.all([listen(0), listen(0)]);
const slow = await listen(400);
const url = (server, path) => `http://127.0.0.1:${server.address().port}${path}`;

await rm(work, { recursive: true, force: true });
await mkdir(work, { recursive: true });
const urls = [];
for (let i = 0; i < 20; i++) urls.push(url(slow, `/slow/photo-${i}.jpg`));
for (let i = 0; i < 300; i++) urls.push(url(fast[i % 2], `/data/part-${String(i).padStart(3, '0')}.bin`));
for (let i = 0; i < 3; i++) urls.push(url(fast[0], `/missing/gone-${i}.txt`));
urls.push(url(fast[1], '/broken/report.pdf'));
urls.push('not a url at all');
await writeFile(join(work, 'urls.txt'), `# dl demo: ${urls.length} lines\n${urls.join('\n')}\n`);

console.log(`dl demo: ${urls.length} lines in .demo/urls.txt, served by three local hosts (one slow)\n`);
// A short backoff keeps the demo quick: the broken URL is still retried 5 times, as by default.
console.log('$ dl --workers 8 --retry-wait 0.2 --joblog run.jsonl -d files urls.txt');
const code = await run(['--workers', '8', '--retry-wait', '0.2', '--joblog', 'run.jsonl', '-d', 'files', 'urls.txt']);
console.log(`(exit code ${code}: 1 means some jobs failed or lines were rejected, as planted)\n`);
console.log('$ dl --joblog run.jsonl --status');
await run(['--joblog', 'run.jsonl', '--status']);
console.log('\n$ dl --workers 8 --joblog run.jsonl -d files urls.txt   # again: nothing left to fetch');
await run(['--workers', '8', '--joblog', 'run.jsonl', '-d', 'files', 'urls.txt']);

for (const server of [...fast, slow]) server.close();
console.log('\nThe files are in .demo/files, the joblog in .demo/run.jsonl.');
