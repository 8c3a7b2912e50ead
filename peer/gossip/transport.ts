/**
 * How gossip messages reach other peers: the three calls a gossiper makes,
 * over HTTP (`http_transport.ts`) or in memory in tests.
 *
 * @module
 */
import type {
  ChallengeRequest,
  ChallengeResponse,
  ExchangeRequest,
  ExchangeResponse,
  PushRequest,
  PushResponse,
} from "../../shared/contracts/gossip.ts";

/** How gossip messages reach other peers (HTTP through the typed client, or in memory in tests). */
export interface GossipTransport {
  /** `POST /api/gossip/exchange` on the peer at `url` (with the network token). */
  exchange(url: string, request: ExchangeRequest, signal: AbortSignal): Promise<ExchangeResponse>;
  /** `POST /api/gossip/push` on the peer at `url` (with the network token). */
  push(url: string, request: PushRequest, signal: AbortSignal): Promise<PushResponse>;
  /**
   * `GET /api/gossip/challenge` on whatever answers at `url`, **without** the
   * network token: `url` has not proved yet that a peer is there.
   */
  challenge(
    url: string,
    request: ChallengeRequest,
    signal: AbortSignal,
  ): Promise<ChallengeResponse>;
}
