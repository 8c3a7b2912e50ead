/**
 * Gossip: every interval (with jitter) this node contacts a few known peers
 * at random and runs a push-pull exchange with each. It sends the digest of
 * the records it holds (its own included); the other side answers with the
 * records this node lacks and names the ones it wants; this node pushes
 * those. Records are signed by their owners, so they can be relayed without
 * letting anyone speak for another peer.
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
  type GossipRecord,
  MAX_MESSAGE_ADVERTISEMENTS,
  MAX_MESSAGE_RECORDS,
  type PeersResponse,
  type PushRequest,
  type PushResponse,
  type RecordHeader,
  type WantedEntry,
} from "../../shared/contracts/gossip.ts";
import { AppError, toAppError } from "../../shared/errors.ts";
import { log } from "../../shared/logging.ts";
import { shortenInput } from "../../shared/quote.ts";
import { jitterBound, type Scheduler } from "../../shared/schedule.ts";
import type { AdvertisementRegistry, RemoteItem } from "../advertisements/mod.ts";
import {
  type Member,
  type Membership,
  readMembershipFile,
  writeMembershipFile,
} from "./membership.ts";
import { RecordBook } from "./records.ts";
import { advertisementsDigest, type PeerSigner, SignatureVerifier } from "./signing.ts";
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
  readonly #refreshMs: number;
  /** The age at which the current own header is re-issued. */
  #refreshAfterMs: number;
  #own: RecordHeader | undefined;
  /** The newest issue time seen on a record of this node held elsewhere (its clock may have gone back). */
  #selfSeenAt = 0;
  #ownItems: RemoteItem[] = [];
  #ownQueue: Promise<unknown> = Promise.resolve();
  #lastRound: RoundResult | undefined;
  #running: Promise<unknown> | undefined;
  readonly #stop = new AbortController();
  #started = false;

  /** Creates the gossiper; {@link start} begins the rounds. */
  constructor(options: GossiperOptions) {
    this.#options = options;
    this.#logger = options.logger ?? log("peer", "gossip");
    this.#fanout = options.fanout ?? DEFAULT_FANOUT;
    this.#refreshMs = options.refreshMs ?? options.leaseMs / 4;
    this.#refreshAfterMs = this.#refreshMs;
    this.#records = new RecordBook({
      selfId: options.peerId,
      selfPublicKey: options.signer.publicKey,
      registry: options.registry,
      membership: options.membership,
      verifier: new SignatureVerifier(),
      clock: options.clock,
      leaseMs: options.leaseMs,
      onSelf: (issuedAt) => {
        this.#selfSeenAt = Math.max(this.#selfSeenAt, issuedAt);
      },
    });
    this.proofs = new UrlProofs({ ...options, ...options.proofs, logger: this.#logger });
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

  /** Runs one round now: contacts up to `fanout` peers at random. */
  async round(): Promise<RoundResult> {
    const at = this.#options.clock.now();
    await this.#options.registry.start();
    if (!this.#options.registry.loaded) {
      // This node's own set is not known until the store is read: saying nothing beats
      // telling every peer it advertises nothing.
      this.#logger.debug("Gossip round skipped: advertisements not loaded from the store yet");
      this.#lastRound = { at, contacted: 0, succeeded: 0, messages: 0 };
      return this.#lastRound;
    }
    const own = await this.ownHeader();
    const digest = this.#digest(own);
    const targets = this.#options.membership.pick(this.#fanout);
    const outcomes = await Promise.all(targets.map((member) => this.#contact(member, own, digest)));
    const result: RoundResult = {
      at,
      contacted: targets.length,
      succeeded: outcomes.filter((outcome) => outcome.ok).length,
      messages: outcomes.reduce((sum, outcome) => sum + outcome.messages, 0),
    };
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
    const records = this.#recordsFor(own, digest, { listedOnly: false });
    const wanted: WantedEntry[] = [];
    for (const entry of digest.values()) {
      if (entry.peerId === this.peerId || wanted.length >= MAX_MESSAGE_RECORDS) continue;
      const held = this.#records.get(entry.peerId);
      if (held && held.issuedAt >= entry.issuedAt) continue;
      wanted.push({ peerId: entry.peerId, adsDigest: held?.adsDigest ?? null });
    }
    return { protocol: GOSSIP_PROTOCOL, from: own, records, wanted };
  }

  /** Takes the records pushed after an exchange. */
  async push(request: PushRequest): Promise<PushResponse> {
    const action = `Cannot take gossip from peer "${request.from.peerId}"`;
    await this.#records.checkSender(request.from, action);
    const result = await this.#records.take(request.records, action);
    this.#options.membership.reached(request.from);
    this.#logRejected(result.rejected, request.from.peerId);
    return result;
  }

  /** Forgets a peer: its key, its record and its advertisements. Returns whether it was known. */
  async forget(peerId: string): Promise<{ known: boolean; removedAdvertisements: number }> {
    const known = this.#options.membership.forget(peerId) ||
      this.#records.get(peerId) !== undefined;
    const removedAdvertisements = await this.#records.forget(peerId);
    await this.#save();
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
    const run = this.#ownQueue.then(() => this.#refreshOwn());
    this.#ownQueue = run.catch(() => {});
    return run;
  }

  async #refreshOwn(): Promise<RecordHeader> {
    const now = this.#options.clock.now();
    const items = this.#options.registry.publicLocal();
    const own = this.#own;
    // The registry hands back the same array while the set is unchanged.
    const adsDigest = own && items === this.#ownItems
      ? own.adsDigest
      : await advertisementsDigest(items);
    if (
      own && own.adsDigest === adsDigest && own.adsCount === items.length &&
      own.url === this.#options.publicUrl && now - own.issuedAt < this.#refreshAfterMs &&
      own.issuedAt > this.#selfSeenAt
    ) {
      this.#ownItems = items;
      return own;
    }
    this.#ownItems = items;
    this.#refreshAfterMs = this.#refreshMs * (1 - (this.#options.random ?? Math.random)() / 4);
    this.#own = await this.#options.signer.sign({
      peerId: this.peerId,
      url: this.#options.publicUrl,
      publicKey: this.#options.signer.publicKey,
      issuedAt: Math.max(Math.floor(now), (own?.issuedAt ?? 0) + 1, this.#selfSeenAt + 1),
      adsDigest,
      adsCount: items.length,
    });
    return this.#own;
  }

  async #guardedRound(): Promise<void> {
    const running = this.round().catch((error) => {
      this.#logger.error("Gossip round failed: {error}", { error: toAppError(error).message });
    });
    this.#running = running;
    await running;
  }

  #digest(own: RecordHeader): DigestEntry[] {
    return [own, ...this.#records.headers()].map((header) => ({
      peerId: header.peerId,
      issuedAt: header.issuedAt,
      adsDigest: header.adsDigest,
    }));
  }

  /** The records (own included) newer than `digest` shows, with their sets where it lacks them. */
  #recordsFor(
    own: RecordHeader,
    digest: ReadonlyMap<string, Pick<DigestEntry, "issuedAt" | "adsDigest">>,
    options: { listedOnly: boolean },
  ): GossipRecord[] {
    const out: GossipRecord[] = [];
    let adsBudget = MAX_MESSAGE_ADVERTISEMENTS;
    for (const header of [own, ...this.#records.headers()]) {
      if (out.length >= MAX_MESSAGE_RECORDS) break;
      const known = digest.get(header.peerId);
      if (options.listedOnly && !known) continue;
      if (known && known.issuedAt >= header.issuedAt) continue;
      if (known?.adsDigest === header.adsDigest) {
        out.push({ header });
        continue;
      }
      // A set still being written may not match the held header yet: it goes in a later message.
      if (header !== own && this.#records.applying(header.peerId)) continue;
      const advertisements = header === own
        ? this.#ownItems
        : this.#options.registry.remoteItems(header.peerId);
      // The entries of a header issued ahead of this clock expire before it (their lease
      // starts no later than now): what is left no longer matches the header.
      if (advertisements.length !== header.adsCount) continue;
      // What does not fit in this message goes in a later one.
      if (advertisements.length > adsBudget) continue;
      adsBudget -= advertisements.length;
      out.push({ header, advertisements });
    }
    return out;
  }

  async #contact(
    member: Member,
    own: RecordHeader,
    digest: DigestEntry[],
  ): Promise<{ ok: boolean; messages: number }> {
    let messages = 0;
    // The transport bounds each request's time; this signal stops them at close.
    const signal = this.#stop.signal;
    const action = `Cannot gossip with ${member.peerId ?? "seed"} at ${shortenInput(member.url)}`;
    try {
      await this.proofs.prove(member, signal);
      messages++;
      const answer = await this.#options.transport.exchange(member.url, {
        protocol: GOSSIP_PROTOCOL,
        from: own,
        digest,
      }, signal);
      await this.#records.checkSender(answer.from, action);
      const records = answer.records.some((record) => record.header.peerId === answer.from.peerId)
        ? answer.records
        : [{ header: answer.from }, ...answer.records];
      const taken = await this.#records.take(records, action);
      this.#logRejected(taken.rejected, answer.from.peerId);
      const firstContact = member.lastContactAt === undefined || member.failures > 0;
      this.#options.membership.reached(answer.from, member);
      if (firstContact) {
        this.#logger.info("Gossiping with peer {peerId} at {url}", {
          peerId: answer.from.peerId,
          url: answer.from.url,
        });
      }
      if (answer.wanted.length > 0) {
        const wanted = new Map(
          answer.wanted.map((entry) => [entry.peerId, {
            issuedAt: 0,
            adsDigest: entry.adsDigest ?? "",
          }]),
        );
        const pushed = this.#recordsFor(own, wanted, { listedOnly: true });
        if (pushed.length > 0) {
          messages++;
          await this.#options.transport.push(member.url, {
            protocol: GOSSIP_PROTOCOL,
            from: own,
            records: pushed,
          }, signal);
        }
      }
      this.#logger.debug("Gossiped with {peerId} at {url}: took {accepted}", {
        peerId: answer.from.peerId,
        url: member.url,
        accepted: taken.accepted,
      });
      return { ok: true, messages };
    } catch (error) {
      if (this.#stop.signal.aborted) return { ok: false, messages };
      this.proofs.forget(member);
      const message = toAppError(error).message;
      const wasOk = member.failures === 0 && member.lastContactAt !== undefined;
      this.#options.membership.failed(member, message);
      const dropped = !this.#options.membership.members.includes(member);
      if (dropped) {
        this.#logger.warning(
          "Dropped peer {peerId} at {url} after {failures} failed contacts: {error}",
          {
            peerId: member.peerId ?? "(seed)",
            url: member.url,
            failures: member.failures,
            error: message,
          },
        );
      } else if (wasOk) {
        this.#logger.warning("Peer {peerId} at {url} stopped answering: {error}", {
          peerId: member.peerId ?? "(seed)",
          url: member.url,
          error: message,
        });
      } else this.#logger.debug("{error}", { error: message });
      return { ok: false, messages };
    }
  }

  #logRejected(rejected: PushResponse["rejected"], from: string): void {
    for (const { peerId, reason } of rejected) {
      this.#logger.warning("Refused the record of peer {peerId} relayed by {from}: {reason}", {
        peerId,
        from,
        reason,
      });
    }
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
