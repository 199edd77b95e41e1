import { createServer, request as httpRequest } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCli, withTempDir } from '../helpers/cli.js';
import { contentFor, contentHandler, useServer } from '../helpers/server.js';

/** A forward proxy on 127.0.0.1: CONNECT tunnels and absolute-form requests, each one noted. */
function startProxy() {
  const used: string[] = [];
  /** Local ports of the proxy's own connections to targets: how a target tells a proxied request. */
  const tunnels = new Set<number>();
  const proxy = createServer((req, res) => {
    used.push(`GET ${req.url}`);
    const target = new URL(req.url ?? '');
    const upstream = httpRequest(target, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  proxy.on('connect', (req, client, head) => {
    used.push(`CONNECT ${req.url}`);
    const [host, port] = (req.url ?? '').split(':');
    const upstream = connect(Number(port), host, () => {
      tunnels.add(upstream.localPort!);
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  return { proxy, used, tunnels };
}

describe('proxies from the environment', () => {
  const content = contentHandler();
  /** Path and client port of each request the target got. */
  const arrived: Array<{ path: string; port: number }> = [];
  // /moved/<name> redirects to /via/<name>: each hop must go through the proxy.
  const target = useServer((req, res) => {
    arrived.push({ path: req.url ?? '', port: req.socket.remotePort! });
    if (req.url?.startsWith('/moved/')) {
      res.writeHead(301, { location: req.url.replace('/moved/', '/via/') });
      return void res.end();
    }
    return content(req, res);
  });
  const { proxy, used, tunnels } = startProxy();
  let proxyUrl = '';
  beforeAll(async () => {
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    proxy.closeAllConnections();
    await new Promise((resolve) => proxy.close(resolve));
  });

  it('HTTP_PROXY carries the requests, each redirect hop included; NO_PROXY hosts go direct', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'urls.txt'), [target.url('/via/p1.bin'), target.url('/moved/p2.bin')].join('\n'));
      const viaProxy = spawnCli(['-l', 'run.jsonl', '-d', 'out', 'urls.txt'], { cwd: dir, env: { HTTP_PROXY: proxyUrl } });
      expect((await viaProxy.exited).code).toBe(0);
      expect(used.length).toBeGreaterThan(0);
      expect(used.every((line) => line.includes(`127.0.0.1:${target.port}`))).toBe(true);
      // Both hops of the redirect reached the target, and every request came through the proxy.
      expect(arrived.map((r) => r.path).sort()).toEqual(['/moved/p2.bin', '/via/p1.bin', '/via/p2.bin']);
      expect(arrived.every((r) => tunnels.has(r.port))).toBe(true);
      expect((await readFile(join(dir, 'out', 'p2.bin'))).equals(contentFor('/via/p2.bin'))).toBe(true);

      used.length = 0;
      await writeFile(join(dir, 'direct.txt'), target.url('/direct/d1.bin'));
      const direct = spawnCli(['-l', 'run2.jsonl', '-d', 'out', 'direct.txt'], { cwd: dir, env: { HTTP_PROXY: proxyUrl, NO_PROXY: '127.0.0.1' } });
      expect((await direct.exited).code).toBe(0);
      expect(used).toEqual([]);
      expect(target.requests).toContain('/direct/d1.bin');
    });
  });
});
