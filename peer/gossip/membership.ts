/**
 * The peers this node knows: where each is, its key, when it was last
 * reached and how many contacts failed in a row. The list starts from the
 * seeds, grows from the (signed) records exchanges bring, drops peers that
 * keep failing, and is bounded. It is kept in `DATA_DIR/peers.json`, so a
 * restarted peer still knows its peers and their keys.
 *
 * @module
 */
import type { Clock } from "../../shared/clock.ts";
import { shortenInput } from "../../shared/quote.ts";

/** One known peer. */
export interface Member {
  /** Its id; undefined for a seed not reached yet. */
  peerId: string | undefined;
  /** Its base URL. */
  url: string;
  /** Its public key, once known: the only key accepted for its id. */
  publicKey: string | undefined;
  /** Whether it comes from `GOSSIP_SEEDS` (seeds are never dropped). */
  seed: boolean;
  /** Contacts failed in a row. */
  failures: number;
  /** The last successful exchange with it, either direction (ms since the epoch). */
  lastContactAt: number | undefined;
  /** Why the last contact failed. */
  lastError: string | undefined;
}

/** What a verified record header says about its owner. */
export interface PeerIdentity {
  /** The owner's id. */
  peerId: string;
  /** Where it is reached. */
  url: string;
  /** Its key. */
  publicKey: string;
}

/** Options of {@link Membership}. */
export interface MembershipOptions {
  /** This node's id (never a member of its own list). */
  selfId: string;
  /** This node's public URL (a seed pointing here is ignored). */
  selfUrl: string;
  /** Base URLs to start from. */
  seeds: readonly string[];
  /** Most peers kept (default 1000). */
  maxPeers?: number;
  /** Failed contacts in a row after which a peer (not a seed) is dropped (default 5). */
  maxFailures?: number;
  /** Random numbers in [0, 1) (default `Math.random`). */
  random?: () => number;
  /** Time source. */
  clock: Clock;
}

/** The saved form of the list (`peers.json`). */
export interface MembershipSnapshot {
  /** File format version. */
  version: 1;
  /** The peers with an id (seeds come from the configuration). */
  peers: {
    peerId: string;
    url: string;
    publicKey: string;
    lastContactAt: number | null;
    failures: number;
  }[];
}

/** Default bound of the list. */
export const DEFAULT_MAX_PEERS = 1000;

/** Default number of failed contacts in a row after which a peer is dropped. */
export const DEFAULT_MAX_FAILURES = 5;

/** A base URL without trailing slashes, as the list keeps it. */
export function normalizeUrl(url: string): string {
  return url.replace(/\/+$/, "");
}

/** The list of known peers; see the module documentation. */
export class Membership {
  readonly maxPeers: number;
  readonly maxFailures: number;
  readonly #selfId: string;
  readonly #selfUrl: string;
  readonly #random: () => number;
  readonly #clock: Clock;
  readonly #members: Member[] = [];
  /** The configured seeds' URLs. */
  readonly #seedUrls = new Set<string>();
  #dirty = false;

  /** Creates the list from the seeds. */
  constructor(options: MembershipOptions) {
    this.maxPeers = options.maxPeers ?? DEFAULT_MAX_PEERS;
    this.maxFailures = options.maxFailures ?? DEFAULT_MAX_FAILURES;
    this.#selfId = options.selfId;
    this.#selfUrl = normalizeUrl(options.selfUrl);
    this.#random = options.random ?? Math.random;
    this.#clock = options.clock;
    for (const seed of options.seeds) {
      const url = normalizeUrl(seed);
      if (url === this.#selfUrl || this.#byUrl(url)) continue;
      this.#seedUrls.add(url);
      this.#members.push({
        peerId: undefined,
        url,
        publicKey: undefined,
        seed: true,
        failures: 0,
        lastContactAt: undefined,
        lastError: undefined,
      });
    }
  }

  /** Every known peer. */
  get members(): readonly Member[] {
    return this.#members;
  }

  /**
   * Whether a peer was added, removed, or got a new id, address or key since
   * the last {@link snapshot}. Contact times and failure counts alone do not
   * count: they are saved with the next such change, not written every round.
   */
  get dirty(): boolean {
    return this.#dirty;
  }

  /**
   * Whether `url` is one of the seeds from the configuration (`GOSSIP_SEEDS`):
   * the operator chose it, so it is trusted as configured. A seed that
   * announces another URL in its record is not trusted there without proof.
   */
  configured(url: string): boolean {
    return this.#seedUrls.has(normalizeUrl(url));
  }

  /** The peer with this id. */
  get(peerId: string): Member | undefined {
    return this.#members.find((member) => member.peerId === peerId);
  }

  /** Up to `count` peers at random, each at most once. */
  pick(count: number): Member[] {
    const pool = [...this.#members];
    const picked: Member[] = [];
    while (picked.length < count && pool.length > 0) {
      const index = Math.floor(this.#random() * pool.length);
      picked.push(pool[index]!);
      pool[index] = pool[pool.length - 1]!;
      pool.pop();
    }
    return picked;
  }

  /**
   * Takes what a verified header (newer than any held before) says of its
   * owner: a new peer is added while there is room; a known one gets the
   * URL it now announces. Returns false when the list is full and the peer
   * is not in it.
   */
  learn(identity: PeerIdentity): boolean {
    if (identity.peerId === this.#selfId) return false;
    const url = normalizeUrl(identity.url);
    const known = this.get(identity.peerId);
    if (known) {
      if (known.url !== url || known.publicKey !== identity.publicKey) {
        known.url = url;
        known.publicKey = identity.publicKey;
        this.#dropUrlOnlyDuplicate(known);
        this.#dirty = true;
      }
      return true;
    }
    const seed = this.#byUrl(url);
    if (seed && seed.peerId === undefined) {
      seed.peerId = identity.peerId;
      seed.publicKey = identity.publicKey;
      this.#dirty = true;
      return true;
    }
    if (this.#members.length >= this.maxPeers) return false;
    this.#members.push({
      peerId: identity.peerId,
      url,
      publicKey: identity.publicKey,
      seed: false,
      failures: 0,
      lastContactAt: undefined,
      lastError: undefined,
    });
    this.#dirty = true;
    return true;
  }

  /**
   * Records a successful exchange with a peer (as `identity` proved with
   * its signature). `contacted` is the member that was dialled, when this
   * node started the exchange.
   */
  reached(identity: PeerIdentity, contacted?: Member): void {
    if (identity.peerId === this.#selfId) return;
    if (contacted?.peerId === undefined && contacted) {
      // A seed reached for the first time: now it has an id.
      const known = this.get(identity.peerId);
      if (known) {
        known.seed ||= contacted.seed;
        this.#remove(contacted);
      } else {
        contacted.peerId = identity.peerId;
        contacted.publicKey = identity.publicKey;
        this.#dirty = true;
      }
    } else if (contacted && contacted.peerId !== identity.peerId) {
      this.failed(
        contacted,
        `${shortenInput(contacted.url)} now answers as peer "${identity.peerId}"`,
      );
    }
    if (!this.learn(identity)) return;
    const member = this.get(identity.peerId)!;
    member.failures = 0;
    member.lastError = undefined;
    member.lastContactAt = this.#clock.now();
  }

  /** Records a failed contact; a peer that keeps failing (not a seed) is dropped. */
  failed(member: Member, error: string): void {
    member.failures++;
    member.lastError = error;
    if (member.failures >= this.maxFailures && !member.seed) this.#remove(member);
  }

  /** Forgets a peer (and so its key). Returns whether it was known. */
  forget(peerId: string): boolean {
    const member = this.get(peerId);
    if (!member) return false;
    if (member.seed) {
      member.peerId = undefined;
      member.publicKey = undefined;
      member.failures = 0;
      member.lastContactAt = undefined;
      member.lastError = undefined;
    } else {
      this.#remove(member);
    }
    this.#dirty = true;
    return true;
  }

  /** The list in its saved form; clears {@link dirty}. */
  snapshot(): MembershipSnapshot {
    this.#dirty = false;
    return {
      version: 1,
      peers: this.#members.flatMap((member) =>
        member.peerId !== undefined && member.publicKey !== undefined
          ? [{
            peerId: member.peerId,
            url: member.url,
            publicKey: member.publicKey,
            lastContactAt: member.lastContactAt ?? null,
            failures: member.failures,
          }]
          : []
      ),
    };
  }

  /** Adds the peers of a saved list (after the seeds, within the bound). */
  restore(snapshot: MembershipSnapshot): void {
    for (const saved of snapshot.peers) {
      if (!this.learn(saved)) continue;
      const member = this.get(saved.peerId)!;
      member.failures = saved.failures;
      member.lastContactAt = saved.lastContactAt ?? undefined;
    }
    this.#dirty = false;
  }

  #byUrl(url: string): Member | undefined {
    return this.#members.find((member) => member.url === url);
  }

  /** A seed entry still without an id at the URL `member` now announces is the same peer. */
  #dropUrlOnlyDuplicate(member: Member): void {
    const duplicate = this.#members.find((other) =>
      other !== member && other.peerId === undefined && other.url === member.url
    );
    if (!duplicate) return;
    member.seed ||= duplicate.seed;
    this.#remove(duplicate);
  }

  #remove(member: Member): void {
    const index = this.#members.indexOf(member);
    if (index === -1) return;
    this.#members.splice(index, 1);
    this.#dirty = true;
  }
}

/** Reads a saved list; undefined when there is none or it cannot be read (it is rebuilt then). */
export async function readMembershipFile(path: string): Promise<MembershipSnapshot | undefined> {
  try {
    const parsed = JSON.parse(await Deno.readTextFile(path)) as MembershipSnapshot;
    return parsed?.version === 1 && Array.isArray(parsed.peers) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Writes a saved list atomically. */
export async function writeMembershipFile(
  path: string,
  snapshot: MembershipSnapshot,
): Promise<void> {
  const temporary = `${path}.${crypto.randomUUID()}.tmp`;
  await Deno.writeTextFile(temporary, JSON.stringify(snapshot, null, 2) + "\n");
  await Deno.rename(temporary, path);
}
