import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRecords, spawnCli, withTempDir } from '../helpers/cli.js';
import { contentFor, contentHandler, useServer } from '../helpers/server.js';

/** A certificate for 127.0.0.1 that nothing trusts unless told to (NODE_EXTRA_CA_CERTS). */
const TLS = resolve(import.meta.dirname, '../fixtures/tls');
const CERT = join(TLS, 'cert.pem');

// https goes over undici, which dl loads only when the first such request comes (http/agent.ts):
// these runs start with https requests, several at once, and mix them with plain http ones.
describe('https next to plain http', () => {
  const plain = useServer(contentHandler());
  let secure: Server;
  let origin: string;
  beforeAll(async () => {
    secure = createServer({ key: readFileSync(join(TLS, 'key.pem')), cert: readFileSync(CERT) }, contentHandler());
    await new Promise<void>((done) => secure.listen(0, '127.0.0.1', done));
    origin = `https://127.0.0.1:${(secure.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((done) => secure.close(() => done())));

  const paths = (prefix: string) => Array.from({ length: 4 }, (_, i) => `/${prefix}-${i}.bin`);

  it('fetches both, byte for byte, when the certificate is trusted', () =>
    withTempDir(async (dir) => {
      const urls = [...paths('tls').map((path) => origin + path), ...paths('plain').map((path) => plain.url(path))];
      await writeFile(join(dir, 'urls.txt'), urls.join('\n'));
      const result = await spawnCli(['--joblog', 'run.jsonl', '-d', 'out', 'urls.txt'], { cwd: dir, env: { NODE_EXTRA_CA_CERTS: CERT } }).exited;
      expect(result.stderr).not.toContain('failed:');
      expect(result.code).toBe(0);
      for (const path of [...paths('tls'), ...paths('plain')]) {
        expect((await readFile(join(dir, 'out', path.slice(1)))).equals(contentFor(path))).toBe(true);
      }
    }));

  it('fails the https jobs with ETLS when it is not, and still fetches the rest', () =>
    withTempDir(async (dir) => {
      const urls = [...paths('untrusted').map((path) => origin + path), plain.url('/alongside.bin')];
      await writeFile(join(dir, 'urls.txt'), urls.join('\n'));
      const result = await spawnCli(['--joblog', 'run.jsonl', '-d', 'out', 'urls.txt'], { cwd: dir, env: { NODE_EXTRA_CA_CERTS: '' } }).exited;
      expect(result.code).toBe(1);
      for (const path of paths('untrusted')) expect(result.stderr).toContain(`failed: ${origin}${path}: self-signed TLS certificate [ETLS]`);
      expect((await readFile(join(dir, 'out', 'alongside.bin'))).equals(contentFor('/alongside.bin'))).toBe(true);
      const failed = (await readRecords(join(dir, 'run.jsonl'))).filter((record) => record.t === 'fail');
      expect(failed).toHaveLength(4);
    }));
});
