import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach } from 'vitest';

/** Called with each request head that arrives on a connection (in order, `nth` across all). */
export type Answer = (socket: Socket, head: string, nth: number) => void;

export interface RawServer {
  server: Server;
  /** `http://127.0.0.1:<port>` */
  origin: string;
  url(path: string): string;
  connections(): number;
  /** The Range start of each request, in order (undefined: none asked for). */
  ranges: (number | undefined)[];
}

/** Where the Range of a request head starts, if it asks for one. */
export function rangeStart(head: string): number | undefined {
  const range = /\r\nrange: bytes=(\d+)-/i.exec(head);
  return range ? Number(range[1]) : undefined;
}

/**
 * Keep-alive HTTP/1.1 servers written by hand on raw TCP, so that an answer can be anything (cut,
 * stalled, trickled, malformed), closed after each test of the calling file. `track` closes
 * servers made otherwise the same way.
 */
export function useRawServers(): { rawServer(answer: Answer): Promise<RawServer>; track(server: Server): void } {
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
          ranges.push(rangeStart(head));
          answer(socket, head, ++nth);
        }
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return { server, origin, url: (path) => `${origin}${path}`, connections: () => connections, ranges };
  }

  return { rawServer, track: (server) => void servers.push(server) };
}
