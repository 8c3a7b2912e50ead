/**
 * One channel per hub, for the life of the link process, shared by its
 * sessions and fail-back probes.
 *
 * Why not a fresh channel per session: closing a channel sends the hub an
 * HTTP/2 GOAWAY, and Deno 2.9.6's `node:http2` server can abort on a GOAWAY
 * from a client whose connection carried a long stream (a full sync of
 * 10,000 entries, closed normally: about one close in ten aborted a hub
 * here; see the README's known issue). A link that closed its channel at
 * every failover would take hubs down with it. So channels stay open until
 * the process ends (the operating system then closes their sockets without
 * a GOAWAY); after a hub failure a channel reconnects by itself within its
 * short backoff (0.5 s doubling to 2 s, see `hub_client.ts`).
 *
 * @module
 */
import type { HubClient } from "./hub_client.ts";

/** The link's channels, by hub address; see the module documentation. */
export class HubClients implements Disposable {
  readonly #open: (address: string) => HubClient;
  readonly #clients = new Map<string, HubClient>();

  /** Channels opened with `open` on first use. */
  constructor(open: (address: string) => HubClient) {
    this.#open = open;
  }

  /** The channel to `address`, opened on first use. */
  get(address: string): HubClient {
    let client = this.#clients.get(address);
    if (!client) {
      client = this.#open(address);
      this.#clients.set(address, client);
    }
    return client;
  }

  /** Closes every channel (in-process use: tests, benchmarks); a link process leaves them to its exit. */
  close(): void {
    for (const client of this.#clients.values()) client.close();
    this.#clients.clear();
  }

  /** Closes every channel. */
  [Symbol.dispose](): void {
    this.close();
  }
}
