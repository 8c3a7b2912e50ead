/**
 * The socket connector every Redis connection of the peer uses: ioredis'
 * standalone connector, except that disconnecting an already closed
 * connection arms no timer (see {@link QuietStandaloneConnector}).
 *
 * @module
 */
import { connect as netConnect, type Socket } from "node:net";
import process from "node:process";
import { connect as tlsConnect } from "node:tls";
import { AbstractConnector, type RedisOptions } from "ioredis";

/**
 * ioredis' standalone connector, except that disconnecting an already closed connection arms
 * no timer: the stock one waits `disconnectTimeout` (2 s) to destroy a socket that is already
 * gone, which keeps the process (and tests) alive after closing a store whose Redis is down.
 */
export class QuietStandaloneConnector extends AbstractConnector {
  readonly #options: RedisOptions;

  /** Created by ioredis with the client's resolved options. */
  constructor(options: unknown) {
    // ioredis passes the client's resolved options (typed `unknown` by ioredis).
    const resolved = options as RedisOptions;
    super(resolved.disconnectTimeout ?? 2000);
    this.#options = resolved;
  }

  /** Opens the socket (TCP, TLS or a Unix socket), as the stock connector does. */
  connect(): Promise<Socket> {
    this.connecting = true;
    return new Promise((resolve, reject) => {
      process.nextTick(() => {
        if (!this.connecting) {
          reject(new Error("Connection is closed."));
          return;
        }
        try {
          const { path, host, port, family, tls } = this.#options;
          const target = path ? { path } : {
            ...(port != null ? { port } : {}),
            ...(host != null ? { host } : {}),
            ...(family != null ? { family } : {}),
          };
          const stream = tls
            ? tlsConnect({ ...target, ...tls })
            : netConnect(target as Parameters<typeof netConnect>[0]);
          this.stream = stream;
          stream.once("error", (error: Error) => {
            this.firstError = error;
          });
          resolve(stream);
        } catch (error) {
          reject(error);
        }
      });
    });
  }

  /** Disconnects; a socket already destroyed needs no timer. */
  override disconnect(): void {
    if (this.stream?.destroyed) {
      this.connecting = false;
      return;
    }
    super.disconnect();
  }
}
