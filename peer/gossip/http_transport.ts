/**
 * Gossip over HTTP through the typed peer client, with `NETWORK_TOKEN` as
 * the bearer credential.
 *
 * @module
 */
import { PeerClient } from "../../shared/client/peer_client.ts";
import type { FetchLike } from "../../shared/client/json_client.ts";
import type { GossipTransport } from "./gossiper.ts";

/** Options of {@link createHttpTransport}. */
export interface HttpTransportOptions {
  /** Sent as `Authorization: Bearer <networkToken>` when set. */
  networkToken?: string | undefined;
  /** The `fetch` to use (default: the global one); tests route it to in-process apps. */
  fetch?: FetchLike;
  /** Longest time one request may take, in ms (default 10 000). */
  timeoutMs?: number;
}

/** A transport that sends gossip messages as HTTP requests. */
export function createHttpTransport(options: HttpTransportOptions = {}): GossipTransport {
  const clients = new Map<string, PeerClient>();
  const clientFor = (url: string) => {
    let client = clients.get(url);
    if (!client) {
      if (clients.size >= 4_096) clients.clear();
      client = new PeerClient({
        baseUrl: url,
        token: options.networkToken,
        ...(options.fetch ? { fetch: options.fetch } : {}),
        ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
      });
      clients.set(url, client);
    }
    return client;
  };
  return {
    exchange: (url, request, signal) => clientFor(url).gossipExchange(request, { signal }),
    push: (url, request, signal) => clientFor(url).gossipPush(request, { signal }),
  };
}
