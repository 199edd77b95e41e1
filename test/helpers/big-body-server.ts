import type { Server, Socket } from 'node:net';
import { rangeStart, useRawServers, type Answer, type RawServer } from './raw-server.js';

export const MiB = 1 << 20;
/** Big enough for the native pump: more than the 4 MiB it needs still to come once a body goes to its file. */
export const SIZE = 12 * MiB;
/** The one big body these servers send, in whole or from a Range. */
export const BODY = Buffer.alloc(SIZE);
for (let i = 0; i < SIZE; i += 4) BODY.writeUInt32LE((i * 2654435761) >>> 0, i);

/** The head of BODY from `from` on (206 with a Content-Range when resumed). */
export function bigBodyHead(from = 0): string {
  const status = from > 0 ? `206 Partial Content\r\nContent-Range: bytes ${from}-${SIZE - 1}/${SIZE}` : '200 OK';
  return `HTTP/1.1 ${status}\r\nContent-Length: ${SIZE - from}\r\nETag: "v1"\r\nAccept-Ranges: bytes\r\n\r\n`;
}

/**
 * Raw servers (helpers/raw-server.ts), and one kind more: a server whose first answer sends BODY
 * up to `at` and then does `then` (nothing: silence); the answers after it send the rest, from
 * the Range asked for.
 */
export function useBigBodyServers(): {
  rawServer(answer: Answer): Promise<RawServer>;
  breakingServer(at: number, then?: (socket: Socket) => void): Promise<RawServer>;
  track(server: Server): void;
} {
  const { rawServer, track } = useRawServers();
  const breakingServer = (at: number, then?: (socket: Socket) => void): Promise<RawServer> =>
    rawServer((socket, head, nth) => {
      if (nth === 1) return void socket.write(Buffer.concat([Buffer.from(bigBodyHead()), BODY.subarray(0, at)]), () => then?.(socket));
      const from = rangeStart(head) ?? 0;
      socket.write(Buffer.concat([Buffer.from(bigBodyHead(from)), BODY.subarray(from)]));
    });
  return { rawServer, breakingServer, track };
}
