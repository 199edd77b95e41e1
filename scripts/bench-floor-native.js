#!/usr/bin/env node
// `node scripts/bench-floor-native.js <urls file> <dest dir> <connections per host>`: the floor
// for dl with its native fetcher (native/fetcher.c). Each host's URLs go to the fetcher one
// at a time per connection, as dl's per-host limit lets them, with nothing of dl around them:
// no joblog, limits, names, events or retries. What it takes is the engine's own cost.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';

const [urlsFile, dest, perHostArg] = process.argv.slice(2);
const perHost = Number(perHostArg);
const fetcher = createRequire(import.meta.url)('../native/build/Release/fetcher.node');
const queues = new Map(); // host:port -> the URLs still to fetch from it
for (const line of readFileSync(urlsFile, 'utf8').split('\n')) {
  if (!line) continue;
  const url = new URL(line);
  if (!queues.has(url.host)) queues.set(url.host, []);
  queues.get(url.host).push(url);
}
const waiting = new Map();
let nextId = 1;
// No progress is read here: one slot, which no fetch names (-1).
fetcher.start((id, result, detail) => {
  const done = waiting.get(id);
  waiting.delete(id);
  if (waiting.size === 0) fetcher.ref(false);
  if (result === 0) done.ok();
  else if (result === -5) done.fail(new Error(`${id}: an answer the fetcher does not take (HTTP status, framing or size)`));
  else done.fail(new Error(`${id}: result ${result}, detail ${detail}`));
}, new Float64Array(2));
function fetchOne(url) {
  return new Promise((ok, fail) => {
    const id = nextId++;
    if (waiting.size === 0) fetcher.ref(true);
    waiting.set(id, { ok, fail });
    const name = join(dest, basename(url.pathname));
    const head = `GET ${url.pathname} HTTP/1.1\r\nhost: ${url.host}\r\n\r\n`;
    fetcher.fetch(id, url.origin, url.hostname, Number(url.port), head, `${name}.part`, name, 1 << 20, 0, 0, 0, -1);
  });
}
async function connection(queue) {
  while (queue.length > 0) await fetchOne(queue.shift());
}
await Promise.all([...queues.values()].flatMap((queue) => Array.from({ length: perHost }, () => connection(queue))));
