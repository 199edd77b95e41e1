#!/usr/bin/env node
// `node scripts/bench-floor.js <urls file> <dest dir> <connections per host> [--threads | --pipeline <depth>]`: the floor under dl
// in `npm run bench`. It does the least work any Node program must do to fetch the same URLs the
// same way: keep-alive HTTP/1.1 over `net`, one request at a time per connection, every body
// into `<name>.part` and renamed when whole, synchronous writes straight from one reusable read
// buffer per connection (larger reads than Node's default 64 KiB, no copies, no streams). No
// joblog, retries, limits, redirects, names from headers or error handling: it assumes plain
// `200` answers with a Content-Length. What it takes is Node's own cost of fetching this way, so
// a target below it is out of reach of dl fetching this way on that machine, and dl's ratio to it
// is dl's own overhead.
//
// With `--threads`, each host's connections run in a worker thread of their own, as wget2 runs
// its downloads in threads: reading a socket and writing a file then use both cores. That is the
// floor for a few big bodies (scenario b), where one thread's read and write system calls are the
// whole cost; for many small ones the start-up of the threads costs more than it brings.
//
// With `--pipeline <depth>`, each connection keeps up to that many requests ahead of its
// responses (HTTP/1.1 pipelining), writing several in one system call: fewer socket writes and
// wakeups per file, which is most of what the one-at-a-time floor spends besides the file calls.
import { closeSync, openSync, renameSync, readFileSync, writeSync, constants } from 'node:fs';
import { connect } from 'node:net';
import { basename, join } from 'node:path';
import { Worker, isMainThread, workerData } from 'node:worker_threads';

const [urlsFile, dest, perHostArg, mode, depthArg] = isMainThread ? process.argv.slice(2) : workerData.argv;
const perHost = Number(perHostArg);
const depth = mode === '--pipeline' ? Number(depthArg) : 1;
const READ_BUFFER = 1 << 20;
const CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL;
const HEAD_END = '\r\n\r\n';

const queues = new Map(); // host:port -> the URLs still to fetch from it
const lines = isMainThread ? readFileSync(urlsFile, 'utf8').split('\n') : workerData.urls;
for (const line of lines) {
  if (!line) continue;
  const url = new URL(line);
  if (!queues.has(url.host)) queues.set(url.host, []);
  queues.get(url.host).push(url);
}

/**
 * One keep-alive connection that fetches URLs from its host's queue until it is empty, with up
 * to `depth` requests sent ahead of the responses (HTTP/1.1 pipelining; 1: one at a time). A
 * pipelined connection sends its requests in batches, one socket write for several.
 */
function connection(host, queue, depth) {
  return new Promise((done, fail) => {
    const sent = []; // URLs whose responses are still to come, in order
    let name; // where the body of sent[0] goes
    let head = ''; // response head bytes so far
    let fd = -1;
    let left = 0; // body bytes still to come
    const send = () => {
      let requests = '';
      while (sent.length < depth && queue.length > 0) {
        const url = queue.shift();
        sent.push(url);
        requests += `GET ${url.pathname} HTTP/1.1\r\nHost: ${host}\r\n\r\n`;
      }
      if (requests) socket.write(requests);
      if (sent.length === 0) {
        socket.end();
        done();
      }
    };
    const finish = () => {
      closeSync(fd);
      fd = -1;
      renameSync(`${name}.part`, name);
      sent.shift();
      if (sent.length <= depth / 2) send();
    };
    const onRead = (size, buffer) => {
      let at = 0;
      while (at < size) {
        if (fd === -1) {
          const before = head.length;
          head += buffer.latin1Slice(at, size);
          const end = head.indexOf(HEAD_END);
          if (end === -1) return;
          if (!head.startsWith('HTTP/1.1 200')) throw new Error(`${sent[0]}: ${head.slice(0, head.indexOf('\r\n'))}`);
          left = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head.slice(0, end))[1]);
          at += end + HEAD_END.length - before;
          head = '';
          name = join(dest, basename(sent[0].pathname));
          fd = openSync(`${name}.part`, CREATE);
        }
        const body = Math.min(left, size - at);
        if (body > 0) writeSync(fd, buffer, at, body);
        at += body;
        left -= body;
        if (left === 0) finish();
      }
    };
    const [hostname, port] = host.split(':');
    const socket = connect({ host: hostname, port: Number(port), onread: { buffer: Buffer.allocUnsafe(READ_BUFFER), callback: onRead } });
    socket.setNoDelay(true);
    socket.on('error', fail);
    socket.on('connect', send);
  });
}

/** One host's URLs fetched by this same script in a worker thread. */
function inWorker(queue) {
  const urls = queue.map(String);
  return new Promise((done, fail) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: { argv: [urlsFile, dest, perHostArg], urls } });
    worker.on('error', fail);
    worker.on('exit', (code) => (code === 0 ? done() : fail(new Error(`worker exited with ${code}`))));
  });
}

if (mode === '--threads') await Promise.all([...queues.values()].map(inWorker));
else await Promise.all([...queues].flatMap(([host, queue]) => Array.from({ length: perHost }, () => connection(host, queue, depth))));
