/**
 * Gossip over HTTP through the typed peer client, with `NETWORK_TOKEN` as
 * the bearer credential on exchanges and pushes. Challenges go without it,
 * through a client that has no token, and read at most a few KiB of
 * whatever answers. Redirects are never followed: the token goes to the URL
 * that proved itself, not wherever it points.
 *
 * @module
 */
import { type FetchLike, JsonClient, PeerClient } from "../../shared/client/mod.ts";
import { ChallengeResponseSchema } from "../../shared/contracts/gossip.ts";
import type { GossipTransport } from "./transport.ts";

/** Largest answer to a challenge read, in bytes (a real one is under 400). */
export const MAX_CHALLENGE_ANSWER_BYTES = 4_096;

/** Options of {@link createHttpTransport}. */
export interface HttpTransportOptions {
  /** Sent as `Authorization: Bearer <networkToken>` when set (never on challenges). */
  networkToken?: string | undefined;
  /** The `fetch` to use (default: the global one, redirects refused); tests route it to in-process apps. */
  fetch?: FetchLike;
  /** Longest time one request may take, in ms (default 10 000). */
  timeoutMs?: number;
}

/** The global `fetch`, refusing redirects. */
const fetchNoRedirect: FetchLike = (request) => fetch(request, { redirect: "error" });

/** `fetch` reading at most `maxBytes` of each answer (a larger one fails). */
function boundedFetch(inner: FetchLike, maxBytes: number): FetchLike {
  return async (request) => {
    const response = await inner(request);
    const reader = response.body?.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    while (reader) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel();
        throw new TypeError(`the answer is larger than ${maxBytes} bytes`);
      }
      chunks.push(value);
    }
    const body = new Uint8Array(size);
    let offset = 0;
    for (const chunk of chunks) {
      body.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return new Response(body, { status: response.status, headers: response.headers });
  };
}

/** A transport that sends gossip messages as HTTP requests. */
export function createHttpTransport(options: HttpTransportOptions = {}): GossipTransport {
  const fetch = options.fetch ?? fetchNoRedirect;
  const challengeFetch = boundedFetch(fetch, MAX_CHALLENGE_ANSWER_BYTES);
  const timeout = options.timeoutMs ? { timeoutMs: options.timeoutMs } : {};
  const clients = new Map<string, PeerClient>();
  const clientFor = (url: string) => {
    let client = clients.get(url);
    if (!client) {
      if (clients.size >= 4_096) clients.clear();
      client = new PeerClient({ baseUrl: url, token: options.networkToken, fetch, ...timeout });
      clients.set(url, client);
    }
    return client;
  };
  return {
    exchange: (url, request, signal) => clientFor(url).gossipExchange(request, { signal }),
    push: (url, request, signal) => clientFor(url).gossipPush(request, { signal }),
    challenge: (url, request, signal) =>
      new JsonClient({ baseUrl: url, fetch: challengeFetch, serviceName: "peer", ...timeout })
        .send({
          method: "GET",
          path: `/api/gossip/challenge?nonce=${encodeURIComponent(request.nonce)}`,
          schema: ChallengeResponseSchema,
          action: "Cannot challenge the URL",
        }, { signal }),
  };
}
