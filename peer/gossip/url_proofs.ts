/**
 * Proofs of peer URLs. A record may announce any URL, so before this node
 * sends `NETWORK_TOKEN` to a URL it learned from gossip, that URL proves it
 * is the peer the record names: a challenge (no token) with a fresh nonce,
 * answered with a signature by the record's key (see `challenge.ts`).
 *
 * - A proof is remembered (by peer id, URL and key together) for a while,
 *   so ordinary rounds cost no extra request; a new URL or key, or a failed
 *   exchange, needs a new proof.
 * - URLs of configured seeds (`GOSSIP_SEEDS`) are trusted as configured.
 * - Challenges to unproven URLs are rate limited: a URL whose proof failed
 *   is not challenged again before a wait that doubles with each failure in
 *   a row (for that identity, and for its origin unless a genuine peer of
 *   another identity answered there), and all challenges together are held
 *   to a budget per minute. So a hostile record cannot make every peer
 *   hammer an arbitrary host.
 * - Answers to challenges are bounded too (this node signs at most so many
 *   a second) and cause no request of their own.
 *
 * @module
 */
import type { Logger } from "@logtape/logtape";
import type { Clock } from "../../shared/clock.ts";
import type { ChallengeRequest, ChallengeResponse } from "../../shared/contracts/gossip.ts";
import { AppError, toAppError } from "../../shared/errors.ts";
import { log } from "../../shared/logging.ts";
import { shortenInput } from "../../shared/quote.ts";
import {
  answerChallenge,
  type ChallengeIdentity,
  checkChallengeAnswer,
  newNonce,
} from "./challenge.ts";
import type { Member, Membership } from "./membership.ts";
import { type PeerSigner, SignatureVerifier } from "./signing.ts";
import type { GossipTransport } from "./transport.ts";

/** Default time a proof is remembered, in ms (an hour). */
export const DEFAULT_PROOF_TTL_MS = 3_600_000;
/** Default budget of challenges sent a minute, to every unproven URL together. */
export const DEFAULT_CHALLENGES_PER_MINUTE = 12;
/** Default wait after a first failed proof, in ms; it doubles with each failure in a row. */
export const DEFAULT_PROOF_BACKOFF_MS = 60_000;
/** Default longest wait between challenges of a URL whose proofs fail, in ms (10 minutes). */
export const DEFAULT_MAX_PROOF_BACKOFF_MS = 600_000;
/** Default number of challenges answered a second (up to five times as many at once). */
export const DEFAULT_ANSWERS_PER_SECOND = 20;

/** Identities and origins remembered (proofs, failures); the oldest go first. */
const MAX_REMEMBERED = 4_096;

/** How URLs prove themselves; every field has a default. */
export interface ProofPolicy {
  /** How long a proof is remembered, in ms (default an hour). */
  ttlMs?: number;
  /** Most challenges sent a minute, to all unproven URLs together (default 12). */
  challengesPerMinute?: number;
  /** Wait after a URL's first failed proof, in ms (default 60 s); doubles with each failure in a row. */
  backoffMs?: number;
  /** Longest such wait, in ms (default 10 minutes). */
  maxBackoffMs?: number;
  /** Most challenges answered a second (default 20, up to five times as many at once). */
  answersPerSecond?: number;
}

/** Options of {@link UrlProofs}. */
export interface UrlProofsOptions extends ProofPolicy {
  /** This node's id (in its answers). */
  peerId: string;
  /** This node's public URL (in its answers). */
  publicUrl: string;
  /** Signs this node's answers. */
  signer: PeerSigner;
  /** Sends challenges. */
  transport: GossipTransport;
  /** Tells which URLs are configured seeds. */
  membership: Pick<Membership, "configured">;
  /** Time source. */
  clock: Clock;
  /** Logger (default `sorcha.peer.gossip`). */
  logger?: Logger;
}

/** Failed proofs in a row of one identity or origin, and when the next challenge may go. */
interface Backoff {
  failures: number;
  until: number;
  reason: string;
}

/** A token bucket: `capacity` at once, refilled at `perMs` tokens a millisecond. */
class Bucket {
  #tokens: number;
  #at: number;

  constructor(readonly capacity: number, readonly perMs: number, now: number) {
    this.#tokens = capacity;
    this.#at = now;
  }

  take(now: number): boolean {
    this.#tokens = Math.min(this.capacity, this.#tokens + Math.max(0, now - this.#at) * this.perMs);
    this.#at = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

function identityKey(identity: ChallengeIdentity): string {
  return `peer ${identity.peerId} ${identity.url} ${identity.publicKey}`;
}

function originKey(url: string): string {
  return `origin ${URL.canParse(url) ? new URL(url).origin : url}`;
}

function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > MAX_REMEMBERED) map.delete(map.keys().next().value!);
}

/** Proves the URLs this node gossips with, and answers challenges; see the module documentation. */
export class UrlProofs {
  readonly #options: UrlProofsOptions;
  readonly #logger: Logger;
  readonly #verifier = new SignatureVerifier();
  readonly #proved = new Map<string, number>();
  readonly #backoff = new Map<string, Backoff>();
  readonly #budget: Bucket;
  readonly #answers: Bucket;

  /** Creates the proofs; none are held at first. */
  constructor(options: UrlProofsOptions) {
    this.#options = options;
    this.#logger = options.logger ?? log("peer", "gossip");
    const now = options.clock.now();
    const perMinute = this.challengesPerMinute;
    this.#budget = new Bucket(perMinute, perMinute / 60_000, now);
    const perSecond = options.answersPerSecond ?? DEFAULT_ANSWERS_PER_SECOND;
    this.#answers = new Bucket(perSecond * 5, perSecond / 1000, now);
  }

  /** Most challenges sent a minute. */
  get challengesPerMinute(): number {
    return this.#options.challengesPerMinute ?? DEFAULT_CHALLENGES_PER_MINUTE;
  }

  /**
   * Returns once `member`'s URL may be sent the network token: it is a
   * configured seed, or it proved (now, or recently enough) that the peer of
   * `member`'s id and key answers there. Throws otherwise, without sending
   * anything when the URL is waiting out a failed proof or the budget of
   * challenges is spent.
   */
  async prove(member: Member, signal: AbortSignal): Promise<void> {
    const { url, peerId, publicKey } = member;
    if (this.#options.membership.configured(url)) return;
    const action = `Not gossiping with peer "${peerId ?? "?"}" at ${shortenInput(url)}`;
    if (peerId === undefined || publicKey === undefined) {
      throw new AppError("failed_precondition", `${action}: its id and key are not known`);
    }
    const identity = { peerId, url, publicKey };
    const key = identityKey(identity);
    const origin = originKey(url);
    const now = this.#options.clock.now();
    const provedAt = this.#proved.get(key);
    if (provedAt !== undefined && now - provedAt < this.#ttlMs) return;
    for (const wait of [this.#backoff.get(key), this.#backoff.get(origin)]) {
      if (wait && now < wait.until) {
        throw new AppError(
          "resource_exhausted",
          `${action}: the URL did not prove it is that peer (${wait.reason}); next challenge in ${
            Math.ceil((wait.until - now) / 1000)
          } s`,
          { details: { retryAfterMs: wait.until - now } },
        );
      }
    }
    if (!this.#budget.take(now)) {
      throw new AppError(
        "resource_exhausted",
        `${action}: the URL has not proved it is that peer yet, and this peer sends at most ${this.challengesPerMinute} challenges a minute`,
      );
    }
    const nonce = newNonce();
    let answer: ChallengeResponse;
    try {
      answer = await this.#options.transport.challenge(url, { nonce }, signal);
    } catch (error) {
      if (signal.aborted) throw error;
      const reason = `no valid answer to a challenge: ${toAppError(error).message}`;
      this.#failed([key, origin], reason, now);
      throw new AppError("unavailable", `${action}: ${reason}`, { cause: error });
    }
    const refusal = await checkChallengeAnswer(answer, { ...identity, nonce }, this.#verifier);
    if (refusal) {
      const failures = this.#failed(refusal.otherPeer ? [key] : [key, origin], refusal.reason, now);
      if (failures === 1) {
        this.#logger.warning("The URL {url} of peer {peerId} did not prove it: {reason}", {
          url,
          peerId,
          reason: refusal.reason,
        });
      }
      throw new AppError(
        "permission_denied",
        `${action}: the URL did not prove it is that peer: ${refusal.reason}`,
      );
    }
    this.#backoff.delete(key);
    this.#backoff.delete(origin);
    remember(this.#proved, key, now);
  }

  /** Forgets `member`'s proof: its URL proves itself again before the token goes there again. */
  forget(member: Member): void {
    const { url, peerId, publicKey } = member;
    if (peerId !== undefined && publicKey !== undefined) {
      this.#proved.delete(identityKey({ peerId, url, publicKey }));
    }
  }

  /** This node's answer to a challenge; throws `resource_exhausted` past the answer budget. */
  async answer(request: ChallengeRequest): Promise<ChallengeResponse> {
    if (!this.#answers.take(this.#options.clock.now())) {
      throw new AppError(
        "resource_exhausted",
        `Cannot answer the challenge: this peer answers at most ${
          this.#answers.perMs * 1000
        } challenges a second; retry later`,
      );
    }
    const { signer, peerId, publicUrl } = this.#options;
    return await answerChallenge(signer, { peerId, url: publicUrl }, request.nonce);
  }

  get #ttlMs(): number {
    return this.#options.ttlMs ?? DEFAULT_PROOF_TTL_MS;
  }

  /** Records a failed proof for each key; returns the failures in a row of the first. */
  #failed(keys: string[], reason: string, now: number): number {
    const first = this.#options.backoffMs ?? DEFAULT_PROOF_BACKOFF_MS;
    const longest = this.#options.maxBackoffMs ?? DEFAULT_MAX_PROOF_BACKOFF_MS;
    let count = 0;
    for (const key of keys) {
      const failures = (this.#backoff.get(key)?.failures ?? 0) + 1;
      const wait = Math.min(longest, first * 2 ** Math.min(failures - 1, 30));
      remember(this.#backoff, key, { failures, until: now + wait, reason });
      count ||= failures;
    }
    return count;
  }
}
