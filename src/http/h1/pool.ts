import { Fifo } from '../../utils/fifo.js';
import { Connection, type ConnectionOptions, type Exchange, type HandedConnection } from './connection.js';
import { destroyedError, failUnstarted } from './unstarted.js';

export interface PoolOptions extends ConnectionOptions {
  /** Connections at most (the host limit). */
  connections: number;
}

/**
 * dl's own connections to one plain-`http:` origin: keep-alive, up to the host limit, one
 * request at a time on each; requests wait in order for a free one. A request that a reused
 * connection lost before any answer came (the server had just closed it) goes out again on
 * another: dl sends only GETs, which may be sent twice.
 */
export class H1Pool {
  readonly #connections = new Set<Connection>();
  /** Free connections, the most recently used last (it is the least likely to be closed). */
  readonly #idle: Connection[] = [];
  readonly #queue = new Fifo<Exchange>();
  /** Requests to send before the queue: they were sent once and lost. */
  readonly #again: Exchange[] = [];
  #destroyed = false;

  /**
   * @param onEmpty called when the last connection closes with no request waiting: the router
   *   lets the pool go then, so that a run over a million origins does not keep a pool for each.
   */
  constructor(
    private readonly origin: URL,
    private readonly options: PoolOptions,
    private readonly onEmpty: () => void = () => undefined,
  ) {}

  /** Queues a request (never after destroy(): http/agent.ts answers those itself). */
  dispatch(exchange: Exchange): void {
    this.#queue.push(exchange);
    this.#pump();
  }

  /**
   * Takes over a connection the native fetcher handed over, with `exchange` sent on it already;
   * once answered, it serves the queue like the pool's own (or closes, past the host limit).
   */
  adopt(handed: HandedConnection, exchange: Exchange): void {
    const connection = new Connection(this.origin, this.options, this.#events, handed);
    this.#connections.add(connection);
    connection.send(exchange);
  }

  get hasIdle(): boolean {
    return this.#idle.length > 0;
  }

  /** Closes every connection now; requests under way or waiting fail with `error`. */
  destroy(error?: Error): void {
    this.#destroyed = true;
    const reason = error ?? destroyedError();
    for (let waiting = this.#next(); waiting; waiting = this.#next()) failUnstarted(waiting.handler, reason);
    for (const connection of [...this.#connections]) connection.destroy(reason);
    this.#idle.length = 0;
  }

  #next(): Exchange | undefined {
    return this.#again.shift() ?? this.#queue.shift();
  }

  #pump(): void {
    while (!this.#destroyed && this.#again.length + this.#queue.size > 0) {
      const free = this.#idle.pop();
      if (free) {
        if (!free.busy) free.send(this.#next()!);
      } else if (this.#connections.size < this.options.connections) {
        const connection = new Connection(this.origin, this.options, this.#events);
        this.#connections.add(connection);
        connection.send(this.#next()!);
      } else {
        return;
      }
    }
  }

  readonly #events = {
    idle: (connection: Connection): void => {
      // Adopted connections can take the pool past its limit, until they are answered.
      if (this.#connections.size > this.options.connections) return connection.destroy();
      const waiting = this.#destroyed ? undefined : this.#next();
      if (waiting) return connection.send(waiting);
      this.#idle.push(connection);
    },
    closed: (connection: Connection, retry: Exchange | undefined): void => {
      this.#connections.delete(connection);
      const at = this.#idle.indexOf(connection);
      if (at !== -1) this.#idle.splice(at, 1);
      if (retry) this.#again.push(retry);
      this.#pump();
      if (this.#connections.size === 0 && this.#again.length + this.#queue.size === 0) this.onEmpty();
    },
  };
}
