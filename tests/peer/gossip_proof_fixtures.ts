/**
 * What the tests of URL proofs stand on: listeners that stand for URLs
 * where no peer answers (an HTTP server that records every request and
 * answers anything, a TCP listener that reads a request and answers as
 * Redis would), a stub transport, and records signed for any id and URL.
 *
 * @module
 */
import type { GossipTransport } from "../../peer/gossip/mod.ts";
import { advertisementsDigest, type PeerSigner } from "../../peer/gossip/signing.ts";
import type { GossipAdvertisement, GossipRecord } from "../../shared/contracts/gossip.ts";
import { AppError } from "../../shared/errors.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A request an HTTP listener of the test received. */
export interface Received {
  method: string;
  path: string;
  authorization: string | null;
  body: string;
}

/** A listener of the test at `url`, and what it received. */
export interface Listening<T> extends AsyncDisposable {
  /** Its base URL (`http://127.0.0.1:{port}`). */
  url: string;
  /** What it received, in order. */
  received: T[];
}

/** An HTTP server on loopback that records every request and answers with `answer`. */
export function recordingServer(
  answer: (request: Request) => Response,
): Listening<Received> {
  const requests: Received[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      requests.push({
        method: request.method,
        path: new URL(request.url).pathname,
        authorization: request.headers.get("authorization"),
        body: await request.text(),
      });
      return answer(request);
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    received: requests,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

/**
 * A TCP listener on loopback that reads a request's head, answers as Redis
 * would, and closes; `received` holds the bytes of each connection as text.
 */
export function redisLikeListener(): Listening<string> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const received: string[] = [];
  const handlers: Promise<void>[] = [];
  const serve = async (conn: Deno.Conn) => {
    const buffer = new Uint8Array(64 * 1024);
    let text = "";
    try {
      while (!text.includes("\r\n\r\n")) {
        const n = await conn.read(buffer);
        if (n === null) break;
        text += decoder.decode(buffer.subarray(0, n));
      }
      received.push(text);
      await conn.write(encoder.encode("-ERR unknown command\r\n"));
    } catch {
      // The client gave up first: what it sent is recorded all the same.
      if (text) received.push(text);
    } finally {
      conn.close();
    }
  };
  const accepting = (async () => {
    try {
      for await (const conn of listener) handlers.push(serve(conn));
    } catch { /* closed */ }
  })();
  return {
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    received,
    async [Symbol.asyncDispose]() {
      listener.close();
      await accepting;
      await Promise.all(handlers);
    },
  };
}

/** A record signed by `signer` for `peerId`, announcing `url`. */
export async function record(
  signer: PeerSigner,
  fields: { peerId: string; url: string; issuedAt: number; ads?: GossipAdvertisement[] },
): Promise<GossipRecord> {
  const ads = fields.ads ?? [];
  const header = await signer.sign({
    peerId: fields.peerId,
    url: fields.url,
    publicKey: signer.publicKey,
    issuedAt: fields.issuedAt,
    adsDigest: await advertisementsDigest(ads),
    adsCount: ads.length,
  });
  return { header, advertisements: ads };
}

/** A stub transport whose exchanges and pushes are recorded (and fail) and whose challenges `answer` handles. */
export function stubTransport(
  answer: GossipTransport["challenge"],
): { calls: string[]; transport: GossipTransport } {
  const calls: string[] = [];
  const transport: GossipTransport = {
    exchange: (url) => {
      calls.push(`exchange ${url}`);
      return Promise.reject(new AppError("unavailable", "stub: no exchange"));
    },
    push: (url) => {
      calls.push(`push ${url}`);
      return Promise.reject(new AppError("unavailable", "stub: no push"));
    },
    challenge: (url, request, signal) => {
      calls.push(`challenge ${url}`);
      return answer(url, request, signal);
    },
  };
  return { calls, transport };
}
