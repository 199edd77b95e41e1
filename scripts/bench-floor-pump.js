#!/usr/bin/env node
// `node scripts/bench-floor-pump.js <urls file> <dest dir>`: a floor of `npm run bench` for big
// bodies (scenario b), not part of dl. Each URL is fetched on a connection of its own; the
// response head is read in JavaScript, then the socket's file descriptor and the rest of the
// Content-Length go to dl's native pump (native/pump.c) that copies them into
// `<name>.part` on a thread of its own, so no byte of the body enters JavaScript. It shows what a
// Node program can reach once a big body's copies leave the main thread, without the rest of
// what dl does (docs/architecture.md). Like scripts/bench-floor.js it assumes
// plain `200` answers with a Content-Length and handles no errors beyond reporting them.
import { closeSync, constants, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { basename, join } from 'node:path';

const { pump } = createRequire(import.meta.url)('../native/build/Release/pump.node');
const [urlsFile, dest] = process.argv.slice(2);
const CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL;
const urls = readFileSync(urlsFile, 'utf8').split('\n').filter(Boolean).map((line) => new URL(line));

function fetchOne(url) {
  return new Promise((resolve, reject) => {
    const room = Buffer.allocUnsafe(64 * 1024);
    let head = Buffer.alloc(0);
    const socket = connect({
      host: url.hostname,
      port: Number(url.port),
      onread: {
        buffer: room,
        // Returning false stops reading at once (a stream's pause() reads ahead): from the end of
        // the head on, the socket's bytes are the pump's.
        callback: (bytes) => {
          head = Buffer.concat([head, room.subarray(0, bytes)]);
          const end = head.indexOf('\r\n\r\n');
          if (end < 0) return true;
          const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head.toString('latin1', 0, end))?.[1]);
          const part = join(dest, `${basename(url.pathname)}.part`);
          const fd = openSync(part, CREATE, 0o644);
          const first = head.subarray(end + 4);
          writeSync(fd, first);
          pump(socket._handle.fd, fd, length - first.length, 0, new Float64Array(2), (errno, moved) => {
            closeSync(fd);
            socket.destroy();
            if (errno !== 0) return reject(new Error(`${url.href}: pump stopped after ${first.length + moved} bytes (errno ${errno})`));
            renameSync(part, join(dest, basename(url.pathname)));
            resolve();
          });
          return false;
        },
      },
    });
    socket.on('error', reject);
    socket.write(`GET ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\n\r\n`);
  });
}

await Promise.all(urls.map(fetchOne));
