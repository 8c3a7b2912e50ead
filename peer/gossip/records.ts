/**
 * The records this node holds of other peers: one signed header per owner,
 * whose advertisement set lives in the registry as that owner's remote
 * advertisements. Incoming records are checked in full before anything
 * changes (a bad signature or a set that does not match its digest makes
 * the whole message a 400), then each is taken or left on its own merits.
 *
 * @module
 */
import type { Clock } from "../../shared/clock.ts";
import type { GossipRecord, RecordHeader } from "../../shared/contracts/gossip.ts";
import { AppError } from "../../shared/errors.ts";
import type { AdvertisementRegistry, RemoteItem } from "../advertisements/mod.ts";
import type { Membership } from "./membership.ts";
import { advertisementsDigest, type SignatureVerifier } from "./signing.ts";

/** How far in the future a header's issue time may be (clock skew between peers), in ms. */
export const DEFAULT_MAX_CLOCK_SKEW_MS = 5 * 60_000;

/** Options of {@link RecordBook}. */
export interface RecordBookOptions {
  /** This node's id: records about it are ignored. */
  selfId: string;
  /** This node's public key: only records of it signed with it are reported to `onSelf`. */
  selfPublicKey: string;
  /** Where remote advertisements go. */
  registry: AdvertisementRegistry;
  /** Known peers (and their keys). */
  membership: Membership;
  /** Checks signatures. */
  verifier: SignatureVerifier;
  /** Time source. */
  clock: Clock;
  /** How long a record lives after it was issued, in ms (the advertisement lease). */
  leaseMs: number;
  /** Largest accepted clock skew, in ms (default 5 min). */
  maxClockSkewMs?: number;
  /** Most records held (default: the membership bound). */
  maxRecords?: number;
  /** Told the issue time of a (validly signed) record of this node itself, held elsewhere. */
  onSelf?: (issuedAt: number) => void;
}

/** What taking a batch of records did. */
export interface TakeResult {
  /** Records newer than the held ones, applied. */
  accepted: number;
  /** Records not newer, expired, about this node, or without a set it could apply. */
  ignored: number;
  /** Records refused one by one, with the reason. */
  rejected: { peerId: string; reason: string }[];
}

/** One record of a batch that passed {@link RecordBook.check}. */
export interface CheckedRecord {
  /** Its header. */
  header: RecordHeader;
  /** The set it carries, when that set would be taken. */
  items: RemoteItem[] | undefined;
}

/** What to do with one record: take it (with its set, or renewing the held one), ignore it, or reject it. */
type Verdict =
  | { kind: "take"; withSet: boolean }
  | { kind: "ignore" }
  | { kind: "reject"; reason: string };

/** The held records; see the module documentation. */
export class RecordBook {
  readonly #options: RecordBookOptions;
  readonly #held = new Map<string, RecordHeader>();
  readonly #applying = new Set<string>();
  #queue: Promise<unknown> = Promise.resolve();

  /** Creates an empty book. */
  constructor(options: RecordBookOptions) {
    this.#options = options;
  }

  /** The held header of `peerId`'s record. */
  get(peerId: string): RecordHeader | undefined {
    return this.#held.get(peerId);
  }

  /**
   * Whether `peerId`'s record is being applied now: until that ends the
   * registry may already hold its new set while {@link get} still gives the
   * previous header, so the two must not be sent together.
   */
  applying(peerId: string): boolean {
    return this.#applying.has(peerId);
  }

  /** Every live held header. */
  headers(): RecordHeader[] {
    this.#dropExpired();
    return [...this.#held.values()];
  }

  /** The only key accepted for `peerId`: from its held record, else from the membership list. */
  keyFor(peerId: string): string | undefined {
    return this.#held.get(peerId)?.publicKey ?? this.#options.membership.get(peerId)?.publicKey;
  }

  /**
   * Throws unless the sender of a message (`header`, its own current header)
   * is another peer, signed by its key, that key the one known for its id,
   * and its clock not far ahead.
   */
  async checkSender(header: RecordHeader, action: string): Promise<void> {
    if (header.peerId === this.#options.selfId) {
      throw header.publicKey === this.#options.selfPublicKey
        ? new AppError(
          "failed_precondition",
          `${action}: that is this peer itself (a seed or PUBLIC_URL points back here)`,
        )
        : new AppError(
          "permission_denied",
          `${action}: the sender claims this peer's own id with another key`,
        );
    }
    if (!(await this.#options.verifier.verify(header))) {
      throw new AppError(
        "invalid_argument",
        `${action}: from.signature does not verify for peer "${header.peerId}"`,
      );
    }
    const known = this.keyFor(header.peerId);
    if (known !== undefined && known !== header.publicKey) {
      throw new AppError("permission_denied", `${action}: ${conflict(header.peerId)}`);
    }
    const skew = header.issuedAt - this.#options.clock.now();
    if (skew > this.#maxSkewMs) {
      throw new AppError(
        "failed_precondition",
        `${action}: peer "${header.peerId}" issued its record ${
          Math.round(skew / 1000)
        } s ahead of this peer's clock (at most ${this.#maxSkewMs / 1000} s is accepted)`,
      );
    }
  }

  /**
   * Takes a batch of records: {@link check}, then {@link apply}. Throws
   * `invalid_argument` (and changes nothing) when any record is malformed.
   */
  async take(records: readonly GossipRecord[], action: string): Promise<TakeResult> {
    return await this.apply(await this.check(records, action));
  }

  /**
   * Checks a batch of records, changing nothing. Throws `invalid_argument`
   * when any record is malformed: a bad signature, a set it would take that
   * does not match its digest or count or lists a register twice, an owner
   * listed twice.
   */
  async check(records: readonly GossipRecord[], action: string): Promise<CheckedRecord[]> {
    const seen = new Set<string>();
    const checked: CheckedRecord[] = [];
    for (let index = 0; index < records.length; index++) {
      const record = records[index]!;
      const header = record.header;
      const where = `${action}: records[${index}] (peer "${header.peerId}")`;
      if (seen.has(header.peerId)) {
        throw new AppError("invalid_argument", `${where} repeats a record of the same peer`);
      }
      seen.add(header.peerId);
      if (!(await this.#options.verifier.verify(header))) {
        throw new AppError("invalid_argument", `${where}: header.signature does not verify`);
      }
      // A set is checked against its digest when it would be taken; one that would be ignored
      // anyway (an old record, an unchanged set) is not hashed for nothing.
      const verdict = this.#judge(header, record.advertisements !== undefined);
      const items = verdict.kind === "take" && verdict.withSet
        ? await itemsOf(record, where)
        : undefined;
      checked.push({ header, items });
    }
    return checked;
  }

  /**
   * Applies a batch that passed {@link check}, once the batches given before
   * it are applied (it is queued when called): each record is judged again
   * against what is held by then, and taken or left on its own merits.
   */
  apply(checked: readonly CheckedRecord[]): Promise<TakeResult> {
    return this.#serially(async () => {
      const result: TakeResult = { accepted: 0, ignored: 0, rejected: [] };
      for (const { header, items } of checked) {
        if (
          header.peerId === this.#options.selfId && header.publicKey === this.#options.selfPublicKey
        ) {
          this.#options.onSelf?.(header.issuedAt);
        }
        // Judged again: an earlier message may have changed what is held meanwhile.
        const verdict = this.#judge(header, items !== undefined);
        if (verdict.kind === "ignore") result.ignored++;
        else if (verdict.kind === "reject") {
          result.rejected.push({ peerId: header.peerId, reason: verdict.reason });
        } else {
          await this.#applyOne(header, verdict.withSet ? items : undefined);
          result.accepted++;
        }
      }
      return result;
    });
  }

  /** Drops `peerId`'s record and its advertisements. Returns how many live advertisements went. */
  async forget(peerId: string): Promise<number> {
    return await this.#serially(async () => {
      this.#held.delete(peerId);
      return await this.#options.registry.forgetRemote(peerId);
    });
  }

  get #maxSkewMs(): number {
    return this.#options.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS;
  }

  /** What to do with a record carrying its set or not (`carriesSet`), given what is held now. */
  #judge(header: RecordHeader, carriesSet: boolean): Verdict {
    const now = this.#options.clock.now();
    if (header.peerId === this.#options.selfId) return { kind: "ignore" };
    const known = this.keyFor(header.peerId);
    if (known !== undefined && known !== header.publicKey) {
      return { kind: "reject", reason: conflict(header.peerId) };
    }
    if (header.issuedAt - now > this.#maxSkewMs) {
      return {
        kind: "reject",
        reason: `issued ${Math.round((header.issuedAt - now) / 1000)} s in the future`,
      };
    }
    if (header.issuedAt + this.#options.leaseMs <= now) return { kind: "ignore" };
    const held = this.#held.get(header.peerId);
    if (held && held.issuedAt >= header.issuedAt) return { kind: "ignore" };
    const maxRecords = this.#options.maxRecords ?? this.#options.membership.maxPeers;
    if (!held && this.#held.size >= maxRecords) {
      this.#dropExpired();
      if (this.#held.size >= maxRecords) return { kind: "ignore" };
    }
    const sameSet = held?.adsDigest === header.adsDigest;
    if (!carriesSet && !sameSet) return { kind: "ignore" };
    return { kind: "take", withSet: !sameSet };
  }

  async #applyOne(header: RecordHeader, items: RemoteItem[] | undefined): Promise<void> {
    const registry = this.#options.registry;
    this.#applying.add(header.peerId);
    try {
      if (items) await registry.replaceRemote(header.peerId, items, { issuedAt: header.issuedAt });
      else await registry.renewRemote(header.peerId, { issuedAt: header.issuedAt });
      this.#held.set(header.peerId, header);
    } finally {
      this.#applying.delete(header.peerId);
    }
    this.#options.membership.learn(header);
  }

  #dropExpired(): void {
    const now = this.#options.clock.now();
    for (const [peerId, header] of this.#held) {
      if (header.issuedAt + this.#options.leaseMs <= now) this.#held.delete(peerId);
    }
  }

  #serially<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => {});
    return run;
  }
}

function conflict(peerId: string): string {
  return `peer id "${peerId}" is already known here with another public key; ` +
    `two peers may share one PEER_ID, or its key was replaced ` +
    `(DELETE /api/peers/${peerId} on this peer forgets the old key)`;
}

/** A record's set as remote items, checked against its header; undefined when it carries none. */
async function itemsOf(record: GossipRecord, where: string): Promise<RemoteItem[] | undefined> {
  const ads = record.advertisements;
  if (ads === undefined) return undefined;
  if (ads.length !== record.header.adsCount) {
    throw new AppError(
      "invalid_argument",
      `${where}: carries ${ads.length} advertisements but header.adsCount is ${record.header.adsCount}`,
    );
  }
  const items: RemoteItem[] = [];
  const ids = new Set<string>();
  for (const ad of ads) {
    const registerId = ad.registerId.toLowerCase();
    if (ids.has(registerId)) {
      throw new AppError("invalid_argument", `${where}: register "${registerId}" is listed twice`);
    }
    ids.add(registerId);
    items.push(registerId === ad.registerId ? ad : { ...ad, registerId });
  }
  if ((await advertisementsDigest(items)) !== record.header.adsDigest) {
    throw new AppError(
      "invalid_argument",
      `${where}: the advertisements do not match header.adsDigest`,
    );
  }
  return items;
}
