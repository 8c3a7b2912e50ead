/**
 * Gossip: every interval (with jitter) this node contacts a few known peers
 * at random and runs a push-pull exchange with each. It sends the digest of
 * the records it holds (its own included); the other side answers with the
 * records this node lacks and names the ones it wants; this node pushes
 * those. Records are signed by their owners, so they can be relayed without
 * letting anyone speak for another peer.
 *
 * This file schedules the rounds and answers the other side's exchanges and
 * pushes; one exchange with a member is in `member_exchange.ts`, this node's
 * own header in `own_record.ts`, and what goes in a message in
 * `record_selection.ts`.
 *
 * @module
 */
import type { Logger } from "@logtape/logtape";
import type { Clock } from "../../shared/clock.ts";
import {
  type DigestEntry,
  type ExchangeRequest,
  type ExchangeResponse,
  GOSSIP_PROTOCOL,
  type PeersResponse,
  type PushRequest,
  type PushResponse,
  type RecordHeader,
} from "../../shared/contracts/gossip.ts";
import { AppError, toAppError } from "../../shared/errors.ts";
import { log } from "../../shared/logging.ts";
import { jitterBound, type Scheduler } from "../../shared/schedule.ts";
import { inSpan, type ServiceMetrics, type Span } from "../../shared/telemetry/mod.ts";
import type { AdvertisementRegistry } from "../advertisements/mod.ts";
import { exchangeWithMember, logRejected, type MemberExchangeOptions } from "./member_exchange.ts";
import { type Membership, readMembershipFile, writeMembershipFile } from "./membership.ts";
import { gossipMetrics, type GossipRecorder } from "./metrics.ts";
import { OwnRecord } from "./own_record.ts";
import { digestOf, type RecordSources, selectRecords, wantedRecords } from "./record_selection.ts";
import { RecordBook } from "./records.ts";
import { type PeerSigner, SignatureVerifier } from "./signing.ts";
import type { GossipTransport } from "./transport.ts";
import { type ProofPolicy, UrlProofs } from "./url_proofs.ts";

/** Default number of peers contacted per round. */
export const DEFAULT_FANOUT = 3;

/** Options of {@link Gossiper}. */
export interface GossiperOptions {
  /** This node's id. */
  peerId: string;
  /** How other peers reach this node. */
  publicUrl: string;
  /** Signs this node's record. */
  signer: PeerSigner;
  /** The advertisements (this node's public set goes out; others' sets come in). */
  registry: AdvertisementRegistry;
  /** The known peers. */
  membership: Membership;
  /** How messages travel. */
  transport: GossipTransport;
  /** Time source. */
  clock: Clock;
  /** Runs the rounds. */
  scheduler: Scheduler;
  /** Time between rounds, in ms. */
  intervalMs: number;
  /** How long advertisements live without a refresh (TTL plus grace), in ms. */
  leaseMs: number;
  /** Peers contacted per round (default 3). */
  fanout?: number;
  /** How often this node re-issues an unchanged record, in ms (default: a quarter of the lease). */
  refreshMs?: number;
  /** Where the membership list is kept (default: not kept). */
  membershipPath?: string | undefined;
  /** Random numbers in [0, 1) for the first round's delay (default `Math.random`). */
  random?: () => number;
  /** How URLs learned from gossip prove themselves (defaults in `url_proofs.ts`). */
  proofs?: ProofPolicy;
  /** Logger (default `sorcha.peer.gossip`). */
  logger?: Logger;
  /** Where gossip's metrics are defined and recorded (default: none). */
  metrics?: ServiceMetrics;
}

/** What one round did. */
export interface RoundResult {
  /** When it started (ms since the epoch). */
  at: number;
  /** Peers contacted. */
  contacted: number;
  /** Exchanges that succeeded. */
  succeeded: number;
  /** Requests sent (an exchange, and a push when the other side wanted records). */
  messages: number;
}

/** Runs gossip for one node; see the module documentation. */
export class Gossiper {
  readonly #options: GossiperOptions;
  readonly #logger: Logger;
  readonly #records: RecordBook;
  /** The proofs of the URLs this node gossips with, and its answers to challenges. */
  readonly proofs: UrlProofs;
  readonly #fanout: number;
  readonly #ownRecord: OwnRecord;
  #lastRound: RoundResult | undefined;
  #running: Promise<unknown> | undefined;
  readonly #stop = new AbortController();
  #started = false;
  readonly #recorder: GossipRecorder | undefined;

  /** Creates the gossiper; {@link start} begins the rounds. */
  constructor(options: GossiperOptions) {
    this.#options = options;
    this.#logger = options.logger ?? log("peer", "gossip");
    this.#fanout = options.fanout ?? DEFAULT_FANOUT;
    this.#ownRecord = new OwnRecord({
      ...options,
      refreshMs: options.refreshMs ?? options.leaseMs / 4,
    });
    this.#records = new RecordBook({
      selfId: options.peerId,
      selfPublicKey: options.signer.publicKey,
      registry: options.registry,
      membership: options.membership,
      verifier: new SignatureVerifier(),
      clock: options.clock,
      leaseMs: options.leaseMs,
      onSelf: (issuedAt) => this.#ownRecord.seen(issuedAt),
    });
    this.proofs = new UrlProofs({ ...options, ...options.proofs, logger: this.#logger });
    const { membership } = options;
    this.#recorder = options.metrics &&
      gossipMetrics(options.metrics, { knownPeers: () => membership.members.length });
  }

  /** This node's id. */
  get peerId(): string {
    return this.#options.peerId;
  }

  /** The held records. */
  get records(): RecordBook {
    return this.#records;
  }

  /**
   * Loads the saved membership list, then runs a first round after a short
   * random delay and one every interval after that.
   */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    if (this.#options.membershipPath) {
      const saved = await readMembershipFile(this.#options.membershipPath);
      if (saved) this.#options.membership.restore(saved);
    }
    const signal = this.#stop.signal;
    const { scheduler, intervalMs } = this.#options;
    const random = this.#options.random ?? Math.random;
    this.#running = (async () => {
      await scheduler.sleep(random() * jitterBound(intervalMs), signal);
      if (!signal.aborted) await this.#guardedRound();
    })();
    scheduler.every("gossip", intervalMs, () => this.#guardedRound(), { signal });
  }

  /** Stops the rounds and saves the membership list. */
  async close(): Promise<void> {
    this.#stop.abort();
    await this.#running;
    await this.#save();
  }

  /**
   * Runs one round now: contacts up to `fanout` peers at random, in a `peer.gossip.round` span
   * (attributes `sorcha.gossip.peers_contacted` and `.peers_succeeded`, or `.skipped`).
   */
  round(): Promise<RoundResult> {
    return inSpan("peer.gossip.round", (span) => this.#round(span));
  }

  async #round(span: Span): Promise<RoundResult> {
    const at = this.#options.clock.now();
    await this.#options.registry.start();
    if (!this.#options.registry.loaded) {
      // This node's own set is not known until the store is read: saying nothing beats
      // telling every peer it advertises nothing.
      this.#logger.debug("Gossip round skipped: advertisements not loaded from the store yet");
      span.setAttribute("sorcha.gossip.skipped", true);
      this.#lastRound = { at, contacted: 0, succeeded: 0, messages: 0 };
      return this.#lastRound;
    }
    const own = await this.ownHeader();
    const digest = digestOf(own, this.#records);
    const targets = this.#options.membership.pick(this.#fanout);
    span.setAttribute("sorcha.gossip.peers_contacted", targets.length);
    const exchange = this.#exchangeOptions();
    const outcomes = await Promise.all(
      targets.map((member) => exchangeWithMember(member, { own, digest }, exchange)),
    );
    const result: RoundResult = {
      at,
      contacted: targets.length,
      succeeded: outcomes.filter((outcome) => outcome.ok).length,
      messages: outcomes.reduce((sum, outcome) => sum + outcome.messages, 0),
    };
    span.setAttribute("sorcha.gossip.peers_succeeded", result.succeeded);
    this.#recorder?.round();
    this.#lastRound = result;
    await this.#save();
    return result;
  }

  /** Answers an exchange: the records the sender lacks, and the ones wanted from it. */
  async exchange(request: ExchangeRequest): Promise<ExchangeResponse> {
    const action = `Cannot exchange gossip with peer "${request.from.peerId}"`;
    await this.#records.checkSender(request.from, action);
    await this.#options.registry.start();
    if (!this.#options.registry.loaded) {
      throw new AppError(
        "unavailable",
        `${action}: this peer has not loaded its advertisements from its store yet`,
      );
    }
    const digest = new Map<string, DigestEntry>();
    for (const entry of request.digest) {
      if (digest.has(entry.peerId)) {
        throw new AppError(
          "invalid_argument",
          `${action}: digest lists peer "${entry.peerId}" twice`,
        );
      }
      digest.set(entry.peerId, entry);
    }
    // The sender's own header renews its set here when the set is unchanged.
    await this.#records.take([{ header: request.from }], action);
    this.#options.membership.reached(request.from);
    // The sender's current header stands for its own record, listed in its digest or not: its
    // record goes back only when the one held here is newer (its clock was set back).
    digest.set(request.from.peerId, request.from);
    const own = await this.ownHeader();
    const records = selectRecords(own, digest, { ...this.#sources(), listedOnly: false });
    const wanted = wantedRecords(digest, { book: this.#records, selfId: this.peerId });
    return { protocol: GOSSIP_PROTOCOL, from: own, records, wanted };
  }

  /** Takes the records pushed after an exchange. */
  async push(request: PushRequest): Promise<PushResponse> {
    const action = `Cannot take gossip from peer "${request.from.peerId}"`;
    await this.#records.checkSender(request.from, action);
    const result = await this.#records.take(request.records, action);
    this.#options.membership.reached(request.from);
    logRejected(result.rejected, { from: request.from.peerId, logger: this.#logger });
    return result;
  }

  /** Forgets a peer: its key, its record and its advertisements. Returns whether it was known. */
  async forget(peerId: string): Promise<{ known: boolean; removedAdvertisements: number }> {
    const known = this.#options.membership.forget(peerId) ||
      this.#records.get(peerId) !== undefined;
    const removedAdvertisements = await this.#records.forget(peerId);
    await this.#save();
    if (known) {
      this.#logger.info("Forgot peer {peerId}: its key, its record and {count} advertisements", {
        peerId,
        count: removedAdvertisements,
      });
    }
    return { known, removedAdvertisements };
  }

  /** What `GET /api/peers` shows. */
  peers(): PeersResponse {
    const iso = (ms: number | undefined) => ms === undefined ? null : new Date(ms).toISOString();
    const { membership, registry } = this.#options;
    return {
      self: {
        peerId: this.peerId,
        url: this.#options.publicUrl,
        publicKey: this.#options.signer.publicKey,
      },
      fanout: this.#fanout,
      intervalSeconds: this.#options.intervalMs / 1000,
      maxPeers: membership.maxPeers,
      peers: membership.members.map((member) => {
        const record = member.peerId === undefined ? undefined : this.#records.get(member.peerId);
        return {
          peerId: member.peerId ?? null,
          url: member.url,
          seed: member.seed,
          status: member.failures > 0 ? "failing" : member.lastContactAt ? "ok" : "unknown",
          failures: member.failures,
          lastContactAt: iso(member.lastContactAt),
          lastError: member.lastError ?? null,
          recordIssuedAt: iso(record?.issuedAt),
          advertisementCount: member.peerId === undefined
            ? 0
            : registry.remoteItems(member.peerId).length,
        };
      }),
      lastRound: this.#lastRound
        ? { ...this.#lastRound, at: new Date(this.#lastRound.at).toISOString() }
        : null,
    };
  }

  /**
   * This node's current header: re-issued (and signed) when its public set
   * or URL changed, or when the last one is older than the refresh period.
   */
  ownHeader(): Promise<RecordHeader> {
    return this.#ownRecord.header();
  }

  async #guardedRound(): Promise<void> {
    const running = this.round().catch((error) => {
      this.#logger.error("Gossip round failed: {error}", { error: toAppError(error).message });
    });
    this.#running = running;
    await running;
  }

  #sources(): RecordSources {
    return { ownRecord: this.#ownRecord, book: this.#records, registry: this.#options.registry };
  }

  #exchangeOptions(): MemberExchangeOptions {
    return {
      ...this.#sources(),
      membership: this.#options.membership,
      transport: this.#options.transport,
      proofs: this.proofs,
      signal: this.#stop.signal,
      logger: this.#logger,
      ...(this.#recorder ? { recorder: this.#recorder } : {}),
    };
  }

  async #save(): Promise<void> {
    const path = this.#options.membershipPath;
    if (!path || !this.#options.membership.dirty) return;
    try {
      await writeMembershipFile(path, this.#options.membership.snapshot());
    } catch (error) {
      this.#logger.warning("Cannot save the peer list to {path}: {error}", {
        path,
        error: toAppError(error).message,
      });
    }
  }
}
