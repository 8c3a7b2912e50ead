/**
 * What is read of the advertisements: the public registers, local and
 * remote, one entry per register (`available`, and its JSON text); this
 * node's public local advertisements as it offers them to other peers; and
 * the live counts. Reads change nothing: expired entries are skipped, not
 * removed. Answers are cached until the table changes (its version moves) or
 * the first lease in them ends.
 *
 * @module
 */
import type { Clock } from "../../shared/clock.ts";
import type { StoredAdvertisement } from "../store/mod.ts";
import type { LeaseTable } from "./lease_table.ts";
import { byRegisterId, type RemoteItem, remoteItemOf } from "./remote_sets.ts";

/** One public register as `available` lists it. */
export interface AvailableRegister {
  /** The register. */
  registerId: string;
  /** Distinct other peers advertising it. */
  peerCount: number;
  /** Highest version seen. */
  latestVersion: number;
  /** Highest docket version seen. */
  latestDocketVersion: number;
  /** Always true: only public registers are listed. */
  isPublic: boolean;
  /** Other peers holding a full replica (`FullyReplicated`). */
  fullReplicaPeerCount: number;
  /** Whether this node advertises it too. */
  isLocal: boolean;
}

/** Live advertisements, counted. */
export interface LiveCounts {
  /** Local ones. */
  localCount: number;
  /** Local public ones. */
  publicLocalCount: number;
  /** Other peers' ones. */
  remoteCount: number;
}

/** A local advertisement and its lease (see {@link ReadViews.localLeases}). */
export interface LocalLease extends RemoteItem {
  /** Whether it is listed as available. */
  isPublic: boolean;
  /** When it was last advertised or renewed, in ms since the epoch. */
  refreshedAt: number;
  /** When its lease ends without a renewal, in ms since the epoch. */
  expiresAt: number;
}

/**
 * What the reads depend on: they give the same answers while `revision` stays (it moves on
 * every change) and until `validUntil` (when the first live lease ends, in ms since the epoch;
 * infinity when none is live).
 */
export interface ReadStamp {
  /** The table's version. */
  revision: number;
  /** When the first live lease ends. */
  validUntil: number;
}

/** An answer, the table's version it was made from, and when its first lease ends. */
interface Cached<T> {
  value: T;
  version: number;
  validUntil: number;
}

/** The read views of a lease table; see the module documentation. */
export class ReadViews {
  readonly #table: LeaseTable;
  readonly #clock: Clock;
  #available: Cached<{ list: AvailableRegister[]; json: string }> | undefined;
  #publicLocal: Cached<RemoteItem[]> | undefined;
  #tallied: Cached<{ counts: LiveCounts; availableCount: number }> | undefined;

  /** Views of `table`, live at `clock`'s time. */
  constructor(table: LeaseTable, options: { clock: Clock }) {
    this.#table = table;
    this.#clock = options.clock;
  }

  /** Public registers, local and remote, one entry per register, sorted by id. */
  available(): AvailableRegister[] {
    return this.#availableNow().list;
  }

  /** {@link available} as JSON text. */
  availableJson(): string {
    return this.#availableNow().json;
  }

  /**
   * This node's public local advertisements (what it tells other peers),
   * sorted by id. The same array comes back until the set changes, so a
   * caller can tell "unchanged" by identity.
   */
  publicLocal(): RemoteItem[] {
    const now = this.#clock.now();
    const cached = this.#publicLocal;
    if (cached && this.#fresh(cached, now)) return cached.value;
    const out: RemoteItem[] = [];
    let validUntil = Number.POSITIVE_INFINITY;
    for (const entry of this.#table.local.values()) {
      const ad = entry.advertisement;
      if (entry.expiresAt <= now || !ad.isPublic) continue;
      out.push(remoteItemOf(ad));
      validUntil = Math.min(validUntil, entry.expiresAt);
    }
    out.sort(byRegisterId);
    const value = cached && sameItems(cached.value, out) ? cached.value : out;
    this.#publicLocal = { value, version: this.#table.version, validUntil };
    return value;
  }

  /** The live local, public local and remote advertisements, counted (cached like the lists). */
  counts(): LiveCounts {
    return this.#tally().counts;
  }

  /**
   * How many registers {@link available} lists, without building the list:
   * metrics read it every few seconds, and a list of many registers costs
   * far more than a count.
   */
  availableCount(): number {
    const now = this.#clock.now();
    const cached = this.#available;
    if (cached && this.#fresh(cached, now)) return cached.value.list.length;
    return this.#tally().availableCount;
  }

  /** See {@link ReadStamp}. */
  stamp(): ReadStamp {
    this.#tally();
    return { revision: this.#table.version, validUntil: this.#tallied!.validUntil };
  }

  /** This node's live local advertisements (public and private) with their leases, sorted by id. */
  localLeases(): LocalLease[] {
    const now = this.#clock.now();
    const leases: LocalLease[] = [];
    for (const entry of this.#table.local.values()) {
      if (entry.expiresAt <= now) continue;
      leases.push({
        ...remoteItemOf(entry.advertisement),
        isPublic: entry.advertisement.isPublic,
        refreshedAt: entry.expiresAt - this.#table.leaseMs,
        expiresAt: entry.expiresAt,
      });
    }
    return leases.sort(byRegisterId);
  }

  #tally(): { counts: LiveCounts; availableCount: number } {
    const now = this.#clock.now();
    const cached = this.#tallied;
    if (cached && this.#fresh(cached, now)) return cached.value;
    let localCount = 0;
    let publicLocalCount = 0;
    let remoteCount = 0;
    let validUntil = Number.POSITIVE_INFINITY;
    for (const entry of this.#table.local.values()) {
      if (entry.expiresAt <= now) continue;
      validUntil = Math.min(validUntil, entry.expiresAt);
      localCount++;
      if (entry.advertisement.isPublic) publicLocalCount++;
    }
    // Listed: the public local registers, and the public remote ones not among them (a set of
    // those only: a node's own registers can be many).
    const remoteOnly = new Set<string>();
    for (const peer of this.#table.remote.values()) {
      for (const entry of peer.values()) {
        if (entry.expiresAt <= now) continue;
        validUntil = Math.min(validUntil, entry.expiresAt);
        remoteCount++;
        const id = entry.advertisement.registerId;
        if (!entry.advertisement.isPublic || remoteOnly.has(id)) continue;
        const local = this.#table.local.get(id);
        if (local && local.expiresAt > now && local.advertisement.isPublic) continue;
        remoteOnly.add(id);
      }
    }
    const availableCount = publicLocalCount + remoteOnly.size;
    const value = {
      counts: { localCount, publicLocalCount, remoteCount },
      availableCount,
    };
    this.#tallied = { value, version: this.#table.version, validUntil };
    return value;
  }

  /** Whether a cached answer still holds: the table is unchanged and no lease in it has ended. */
  #fresh(cached: Cached<unknown>, now: number): boolean {
    return cached.version === this.#table.version && now < cached.validUntil;
  }

  #availableNow(): { list: AvailableRegister[]; json: string } {
    const now = this.#clock.now();
    const cached = this.#available;
    if (cached && this.#fresh(cached, now)) return cached.value;
    const byRegister = new Map<string, AvailableRegister>();
    let validUntil = Number.POSITIVE_INFINITY;
    const include = (entry: StoredAdvertisement, remote: boolean) => {
      const ad = entry.advertisement;
      if (entry.expiresAt <= now || !ad.isPublic) return;
      validUntil = Math.min(validUntil, entry.expiresAt);
      let info = byRegister.get(ad.registerId);
      if (!info) {
        info = {
          registerId: ad.registerId,
          peerCount: 0,
          latestVersion: ad.latestVersion,
          latestDocketVersion: ad.latestDocketVersion,
          isPublic: true,
          fullReplicaPeerCount: 0,
          isLocal: false,
        };
        byRegister.set(ad.registerId, info);
      }
      info.latestVersion = Math.max(info.latestVersion, ad.latestVersion);
      info.latestDocketVersion = Math.max(info.latestDocketVersion, ad.latestDocketVersion);
      if (remote) {
        info.peerCount++;
        if (ad.syncState === "FullyReplicated") info.fullReplicaPeerCount++;
      } else info.isLocal = true;
    };
    for (const entry of this.#table.local.values()) include(entry, false);
    for (const peer of this.#table.remote.values()) {
      for (const entry of peer.values()) include(entry, true);
    }
    const list = [...byRegister.values()].sort(byRegisterId);
    const value = { list, json: JSON.stringify(list) };
    this.#available = { value, version: this.#table.version, validUntil };
    return value;
  }
}

function sameItems(a: readonly RemoteItem[], b: readonly RemoteItem[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (
      x.registerId !== y.registerId || x.syncState !== y.syncState ||
      x.latestVersion !== y.latestVersion || x.latestDocketVersion !== y.latestDocketVersion
    ) return false;
  }
  return true;
}
