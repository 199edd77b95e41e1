import { createHash } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface TestServer {
  port: number;
  /** Absolute URL of a path on this server. */
  url(path: string): string;
  /** Paths requested, in arrival order. */
  requests: string[];
  /** The same requests with their Range and If-Range headers. */
  log: RequestInfo[];
  close(): Promise<void>;
}

export interface RequestInfo {
  path: string;
  /** performance.now() when the request arrived. */
  at: number;
  range: string | undefined;
  ifRange: string | undefined;
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** A real HTTP server on 127.0.0.1 with a random port that logs every request path. */
export async function startServer(handler: Handler): Promise<TestServer> {
  const requests: string[] = [];
  const log: RequestInfo[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    requests.push(req.url ?? '');
    log.push({ path: req.url ?? '', at: performance.now(), range: req.headers.range, ifRange: req.headers['if-range'] as string | undefined });
    void Promise.resolve(handler(req, res)).catch(() => res.destroy());
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: (path) => `http://127.0.0.1:${port}${path.startsWith('/') ? path : `/${path}`}`,
    requests,
    log,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Deterministic bytes for a path: 0.5 to 40 KiB, different for every path. */
export function contentFor(path: string): Buffer {
  const seed = createHash('sha256').update(path).digest();
  const size = 512 + (seed.readUInt32BE(0) % (40 * 1024));
  const out = Buffer.allocUnsafe(size + 4);
  // xorshift32 from the path's hash: cheap, and a different stream for every path.
  let x = seed.readUInt32BE(4) || 1;
  for (let i = 0; i < size; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out.writeInt32LE(x | 0, i);
  }
  return out.subarray(0, size);
}

/** Serves contentFor(path) with a Content-Length, after an optional delay. */
export function contentHandler(options: { delayMs?: number } = {}): Handler {
  return async (req, res) => {
    if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
    const body = contentFor(new URL(req.url ?? '/', 'http://x').pathname);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
    res.end(body);
  };
}

export async function startServers(count: number, handler: Handler): Promise<TestServer[]> {
  return Promise.all(Array.from({ length: count }, () => startServer(handler)));
}

/**
 * Starts `count` servers before the tests of the calling `describe` and closes them after.
 * Returns the list, filled in once beforeAll has run.
 */
export function useServers(count: number, handler: Handler): TestServer[] {
  const servers: TestServer[] = [];
  beforeAll(async () => {
    servers.push(...(await startServers(count, handler)));
  });
  afterAll(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  return servers;
}

/** One server for the calling `describe`; its fields are read once beforeAll has started it. */
export function useServer(handler: Handler): TestServer {
  const servers = useServers(1, handler);
  const started = (): TestServer => servers[0] ?? fail();
  return {
    get port() {
      return started().port;
    },
    get requests() {
      return started().requests;
    },
    get log() {
      return started().log;
    },
    url: (path) => started().url(path),
    close: () => started().close(),
  };
}

function fail(): never {
  throw new Error('test server used before beforeAll started it');
}
