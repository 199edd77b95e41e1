import { spawnSync } from 'node:child_process';
import { open, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nativePump, PUMP_ADDON, pumped } from '../../src/http/h1/native-pump.js';
import { run, type RunOptions } from '../../src/index.js';
import { packageFile } from '../../src/package-root.js';
import { BODY, bigBodyHead, MiB, SIZE, useBigBodyServers } from '../helpers/big-body-server.js';
import { readRecords, useTempDirs, waitFor } from '../helpers/cli.js';

const { rawServer, breakingServer, track } = useBigBodyServers();
const tempDir = useTempDirs('dl-pump-');

/** Runs dl in-process on `urls` into a fresh folder. */
async function download(urls: string[], options: Partial<RunOptions> = {}) {
  const dir = await tempDir();
  await writeFile(join(dir, 'urls.txt'), urls.join('\n'));
  const go = (more: Partial<RunOptions> = {}) =>
    run({ inputs: [join(dir, 'urls.txt')], joblog: join(dir, 'run.jsonl'), destdir: join(dir, 'out'), retryWaitMs: 10, ...options, ...more });
  return { dir, go, file: (name: string) => readFile(join(dir, 'out', name)), files: async () => (await readdir(join(dir, 'out'))).sort() };
}

/**
 * A connected socket, not read from (every byte is the pump's), to which a server sends the first
 * `bytes` of BODY and closes. Its peer then goes away with bytes unread: a reset, which is no
 * error of the tests'.
 */
async function sentTo(bytes: number): Promise<Socket> {
  const server = createServer((socket) => socket.on('error', () => undefined).end(BODY.subarray(0, bytes)));
  track(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const socket = connect({ port: (server.address() as AddressInfo).port, host: '127.0.0.1' });
  socket.pause();
  socket.on('error', () => undefined);
  await new Promise((resolve) => socket.once('connect', resolve));
  return socket;
}

describe.skipIf(!nativePump())('the native body pump', () => {
  it('moves big bodies byte for byte, and their connection then serves the next request', async () => {
    const server = await rawServer((socket) => socket.write(Buffer.concat([Buffer.from(bigBodyHead()), BODY])));
    const before = pumped.bytes;
    const { go, file } = await download([server.url('/one.bin'), server.url('/two.bin')]);
    expect(await go({ perHost: 1 })).toMatchObject({ done: 2, failed: 0 });
    expect((await file('one.bin')).equals(BODY)).toBe(true);
    expect((await file('two.bin')).equals(BODY)).toBe(true);
    // The pump moved most of both bodies, and left the connection fit for the second request.
    expect(pumped.bytes - before).toBeGreaterThan(2 * (SIZE - 4 * MiB));
    expect(server.connections()).toBe(1);
  });

  it('a body cut while pumped keeps what came in .part, and is resumed from there with Range', async () => {
    const CUT = 6 * MiB;
    const server = await breakingServer(CUT, (socket) => setTimeout(() => socket.destroy(), 50));
    const bodies = pumped.bodies;
    const { go, file, dir } = await download([server.url('/cut.bin')]);
    expect(await go()).toMatchObject({ done: 1, failed: 0 });
    expect((await file('cut.bin')).equals(BODY)).toBe(true);
    expect(server.ranges).toEqual([undefined, CUT]);
    expect(pumped.bodies - bodies).toBe(2); // the cut body and its rest
    const fails = (await readRecords(join(dir, 'run.jsonl'))).filter((r) => r.t === 'fail');
    expect(fails).toMatchObject([{ code: 'SHORT_BODY', final: false }]);
  });

  it('silence while pumped is the body timeout, and the next attempt goes on from the .part', async () => {
    const STALL_AT = 6 * MiB;
    const server = await breakingServer(STALL_AT); // then silence
    const bodies = pumped.bodies;
    const { go, file, dir } = await download([server.url('/stall.bin')]);
    expect(await go({ idleTimeoutMs: 300 })).toMatchObject({ done: 1, failed: 0 });
    expect((await file('stall.bin')).equals(BODY)).toBe(true);
    expect(server.ranges).toEqual([undefined, STALL_AT]);
    expect(pumped.bodies - bodies).toBe(2);
    const fails = (await readRecords(join(dir, 'run.jsonl'))).filter((r) => r.t === 'fail');
    expect(fails).toMatchObject([{ code: 'ETIMEDOUT_BODY', final: false }]);
  });

  it('a reset while pumped is ECONNRESET, and the retry goes on from what the .part holds', async () => {
    const server = await breakingServer(6 * MiB, (socket) => setTimeout(() => socket.resetAndDestroy(), 50));
    const bodies = pumped.bodies;
    const { go, file, dir } = await download([server.url('/reset.bin')]);
    expect(await go()).toMatchObject({ done: 1, failed: 0 });
    // A reset drops what the client had not read yet: the retry starts where the .part ends.
    expect((await file('reset.bin')).equals(BODY)).toBe(true);
    expect(server.ranges[1]).toBeGreaterThan(0);
    expect(pumped.bodies - bodies).toBe(2);
    const fails = (await readRecords(join(dir, 'run.jsonl'))).filter((r) => r.t === 'fail');
    expect(fails).toMatchObject([{ code: 'ECONNRESET', final: false }]);
  });

  it('--max-time running out while pumped fails the attempt like any other, and the retry finishes', async () => {
    const server = await breakingServer(6 * MiB); // then silence
    const { go, file, dir } = await download([server.url('/late.bin')]);
    expect(await go({ maxTimeMs: 1500, idleTimeoutMs: 60_000 })).toMatchObject({ done: 1, failed: 0 });
    expect((await file('late.bin')).equals(BODY)).toBe(true);
    expect(server.ranges).toEqual([undefined, 6 * MiB]);
    const fails = (await readRecords(join(dir, 'run.jsonl'))).filter((r) => r.t === 'fail');
    expect(fails).toMatchObject([{ code: 'ETIMEDOUT_TOTAL', final: false }]);
  });

  it('a write error stops the pump with the write\'s code, the bytes written counted', async () => {
    const socket = await sentTo(2 * MiB);
    const full = await open('/dev/full', 'w');
    try {
      const state = new Float64Array(new ArrayBuffer(16));
      const fd = (socket as unknown as { _handle: { fd: number } })._handle.fd;
      const [errno, moved, writing] = await new Promise<[number, number, boolean]>((resolve) =>
        nativePump()!.pump(fd, full.fd, 2 * MiB, 0, state, (...args) => resolve(args)),
      );
      expect([errno, moved, writing]).toEqual([osConstants.errno.ENOSPC, 0, true]);
      expect(state[0]).toBe(0);
    } finally {
      await full.close();
      socket.destroy();
    }
  });

  it('the pump works on descriptors of its own: closing the ones it was given does not reach it', async () => {
    // When a worker ends, Node closes its sockets and files before the pump can be stopped, and
    // their numbers are soon other files': the pump must never write through them.
    const socket = await sentTo(2 * MiB);
    const dir = await tempDir();
    const file = await open(join(dir, 'own.bin'), 'w');
    const fd = (socket as unknown as { _handle: { fd: number } })._handle.fd;
    const ended = new Promise<[number, number, boolean]>((resolve) =>
      nativePump()!.pump(fd, file.fd, 2 * MiB, 0, new Float64Array(new ArrayBuffer(16)), (...args) => resolve(args)),
    );
    await file.close(); // at once, while the pump runs
    expect(await ended).toEqual([0, 2 * MiB, false]);
    expect((await readFile(join(dir, 'own.bin'))).equals(BODY.subarray(0, 2 * MiB))).toBe(true);
    socket.destroy();
  });

  it('a worker thread ended while its pump runs ends cleanly: the pump is stopped and waited for', () => {
    // Before the pump joined its thread at teardown, this crashed the whole process (SIGSEGV).
    const worker = [
      "const { parentPort, workerData } = require('node:worker_threads');",
      'const { pump } = require(workerData.addon);',
      "const s = require('node:net').connect({ port: workerData.port, host: '127.0.0.1' });",
      's.pause();',
      "s.on('connect', () => {",
      "  const fd = require('node:fs').openSync('/dev/null', 'w');",
      '  pump(s._handle.fd, fd, 1 << 20, 0, new Float64Array(new ArrayBuffer(16)), () => {});',
      "  parentPort.postMessage('pumping');",
      '});',
    ].join('\n');
    const main = [
      "const { Worker } = require('node:worker_threads');",
      "const server = require('node:net').createServer((s) => s.on('error', () => {})).listen(0, '127.0.0.1', () => {",
      `  const w = new Worker(${JSON.stringify(worker)}, { eval: true, workerData: { addon: ${JSON.stringify(packageFile(PUMP_ADDON))}, port: server.address().port } });`,
      "  w.once('message', async () => { await w.terminate(); console.log('terminated'); server.close(); });",
      '});',
    ].join('\n');
    const child = spawnSync(process.execPath, ['-e', main], { encoding: 'utf8', timeout: 30_000 });
    expect([child.status, child.signal, child.stdout.trim()]).toEqual([0, null, 'terminated']);
  });

  it('a stop while pumped ends the run at once, keeps the .part, and the next run finishes it', async () => {
    const STALL_AT = 6 * MiB;
    const server = await breakingServer(STALL_AT); // then silence
    const bodies = pumped.bodies;
    const { go, file, files, dir } = await download([server.url('/stop.bin')]);
    const stop = new AbortController();
    const first = go({ signal: stop.signal, idleTimeoutMs: 60_000 });
    const part = join(dir, 'out', 'stop.bin.part');
    await waitFor(async () => (await stat(part).catch(() => undefined))?.size === STALL_AT, 30_000, 'the .part to hold what was sent');
    stop.abort();
    // Ended by the stop, not by the minute of silence the timeout would have waited.
    expect(await first).toMatchObject({ done: 0 });
    expect(await files()).toEqual(['stop.bin.part']);
    expect(pumped.bodies - bodies).toBe(1);
    expect(await go()).toMatchObject({ done: 1, failed: 0 });
    expect((await file('stop.bin')).equals(BODY)).toBe(true);
    expect(server.ranges).toEqual([undefined, STALL_AT]);
  });
});
