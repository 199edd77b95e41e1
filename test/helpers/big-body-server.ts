import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach } from 'vitest';

export const MiB = 1 << 20;
/** Big enough for the native pump: more than the 4 MiB it needs still to come once a body goes to its file. */
export const SIZE = 12 * MiB;
/** The one big body these servers send, in whole or from a Range. */
export const BODY = Buffer.alloc(SIZE);
for (let i = 0; i < SIZE; i += 4) BODY.writeUInt32LE((i * 2654435761) >>> 0, i);

export type Answer = (socket: Socket, path: string, range: number | undefined, nth: number) => void;

export interface RawServer {
  url(path: string): string;
  connections(): number;
  /** The Range start of each request, in order (undefined: none asked for). */
  ranges: (number | undefined)[];
}

/** The head of BODY from `from` on (206 with a Content-Range when resumed). */
export function bigBodyHead(from = 0): string {
  const status = from > 0 ? `206 Partial Content\r\nContent-Range: bytes ${from}-${SIZE - 1}/${SIZE}` : '200 OK';
  return `HTTP/1.1 ${status}\r\nContent-Length: ${SIZE - from}\r\nETag: "v1"\r\nAccept-Ranges: bytes\r\n\r\n`;
}

/**
 * Keep-alive HTTP/1.1 servers written by hand, so that they can stop or cut a body anywhere,
 * closed after each test of the calling file.
 */
export function useRawServers(): { rawServer(answer: Answer): Promise<RawServer>; breakingServer(at: number, then?: (socket: Socket) => void): Promise<RawServer>; track(server: Server): void } {
  const servers: Server[] = [];
  afterEach(() => {
    for (const server of servers.splice(0)) server.close();
  });

  async function rawServer(answer: Answer): Promise<RawServer> {
    let connections = 0;
    let nth = 0;
    const ranges: (number | undefined)[] = [];
    const server = createServer((socket) => {
      connections++;
      socket.on('error', () => undefined);
      let pending = '';
      socket.on('data', (data) => {
        pending += data.toString('latin1');
        for (let end = pending.indexOf('\r\n\r\n'); end !== -1; end = pending.indexOf('\r\n\r\n')) {
          const head = pending.slice(0, end);
          pending = pending.slice(end + 4);
          const range = /\r\nrange: bytes=(\d+)-/i.exec(head);
          ranges.push(range ? Number(range[1]) : undefined);
          answer(socket, head.split(' ')[1]!, range ? Number(range[1]) : undefined, ++nth);
        }
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    return { url: (path) => `http://127.0.0.1:${port}${path}`, connections: () => connections, ranges };
  }

  /**
   * A server whose first answer sends BODY up to `at` and then does `then` (nothing: silence);
   * the answers after it send the rest, from the Range asked for.
   */
  function breakingServer(at: number, then?: (socket: Socket) => void): Promise<RawServer> {
    return rawServer((socket, _path, range, nth) => {
      if (nth === 1) return void socket.write(Buffer.concat([Buffer.from(bigBodyHead()), BODY.subarray(0, at)]), () => then?.(socket));
      socket.write(Buffer.concat([Buffer.from(bigBodyHead(range ?? 0)), BODY.subarray(range ?? 0)]));
    });
  }

  return { rawServer, breakingServer, track: (server) => void servers.push(server) };
}
