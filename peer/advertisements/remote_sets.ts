/**
 * Other peers' advertisements, one set per peer, as received in gossip
 * exchanges: a peer's complete set replaces its previous one (new and changed
 * advertisements written, unchanged ones only renewed, the ones it no longer
 * sends removed), a newer header of an unchanged set renews its leases, and a
 * peer can be forgotten. Other peers' sets and local advertisements are never
 * touched. Remote advertisements are always public; their leases run from when
 * the owner issued its set.
 *
 * @module
 */
import type { Clock } from "../../shared/clock.ts";
import { AppError } from "../../shared/errors.ts";
import type {
  Advertisement,
  AdvertisementWrite,
  StoreBatch,
  StoredAdvertisement,
} from "../store/mod.ts";
import type { LeaseTable } from "./lease_table.ts";
import type { Persistence } from "./persistence.ts";

/** One advertisement a peer asserts for itself in a gossip exchange (always public). */
export interface RemoteItem {
  /** The register (lower case). */
  registerId: string;
  /** The advertising peer's replication state of the register. */
  syncState: Advertisement["syncState"];
  /** Its latest version. */
  latestVersion: number;
  /** Its latest docket version. */
  latestDocketVersion: number;
}

/** Options of {@link RemoteSets.replace} and {@link RemoteSets.renew}. */
export interface RemoteLeaseOptions {
  /** When the owner issued the set (ms since the epoch): the lease runs from then. Default: now. */
  issuedAt?: number;
}

/** What replacing a peer's set did. */
export interface RemoteReplaceResult {
  /** Items received. */
  processed: number;
  /** New advertisements of that peer. */
  added: number;
  /** Its advertisements whose values changed. */
  updated: number;
  /** Its advertisements missing from the new set, removed. */
  removed: number;
  /** Already as sent: lease renewed, nothing rewritten. */
  unchanged: number;
  /** Whether the changes went to the store (written in the background); false while it is degraded. */
  persisted: boolean;
}

/** Options of {@link RemoteSets}. */
export interface RemoteSetsOptions {
  /** Where changes are written. */
  persistence: Persistence;
  /** Time source. */
  clock: Clock;
}

/** One peer's set being replaced: its time and lease end, its entries before and after, the writes. */
interface PeerSetChange {
  peerId: string;
  now: number;
  expiresAt: number;
  stamp: string;
  previous: ReadonlyMap<string, StoredAdvertisement>;
  next: Map<string, StoredAdvertisement>;
  batch: StoreBatch;
}

/** The values of an advertisement another peer would be told of. */
export function remoteItemOf(ad: Advertisement): RemoteItem {
  return {
    registerId: ad.registerId,
    syncState: ad.syncState,
    latestVersion: ad.latestVersion,
    latestDocketVersion: ad.latestDocketVersion,
  };
}

/** Orders by register id. */
export function byRegisterId(a: { registerId: string }, b: { registerId: string }): number {
  return a.registerId < b.registerId ? -1 : a.registerId > b.registerId ? 1 : 0;
}

/** Other peers' sets; see the module documentation. */
export class RemoteSets {
  readonly #table: LeaseTable;
  readonly #persistence: Persistence;
  readonly #clock: Clock;

  /** The remote entries of `table`. */
  constructor(table: LeaseTable, options: RemoteSetsOptions) {
    this.#table = table;
    this.#persistence = options.persistence;
    this.#clock = options.clock;
  }

  /**
   * Replaces everything `peerId` advertises with `items`, its complete set. A set listing a
   * register twice is an `invalid_argument` error and changes nothing.
   */
  async replace(
    peerId: string,
    items: readonly RemoteItem[],
    options: RemoteLeaseOptions = {},
  ): Promise<RemoteReplaceResult> {
    const ids = items.map((item) => item.registerId.toLowerCase());
    const seen = new Set<string>();
    for (const registerId of ids) {
      if (seen.has(registerId)) {
        throw new AppError(
          "invalid_argument",
          `Cannot take advertisements from peer "${peerId}": register "${registerId}" is listed twice`,
        );
      }
      seen.add(registerId);
    }
    const now = this.#clock.now();
    this.#table.prune(now);
    const previous = this.#table.remote.get(peerId) ?? new Map<string, StoredAdvertisement>();
    const set: PeerSetChange = {
      peerId,
      now,
      expiresAt: this.#table.remoteLeaseEnd(now, options.issuedAt),
      stamp: new Date(now).toISOString(),
      previous,
      next: new Map(),
      batch: { put: [], remove: [] },
    };
    const tally = { added: 0, updated: 0, unchanged: 0 };
    ids.forEach((registerId, index) => {
      tally[this.#take({ ...items[index]!, registerId }, set)]++;
    });
    const { next, batch } = set;
    let removed = 0;
    for (const [registerId, entry] of previous) {
      if (next.has(registerId)) continue;
      batch.remove.push({ registerId, peerId });
      if (entry.expiresAt > now) removed++;
    }
    this.#table.replacePeer(peerId, next);
    const persisted = await this.#persistence.write(batch, {
      background: true,
      replacesPeerSet: peerId,
    });
    const { added, updated, unchanged } = tally;
    return { processed: items.length, added, updated, removed, unchanged, persisted };
  }

  /** Takes one item of a peer's new set: kept and renewed when unchanged, written otherwise. */
  #take(item: RemoteItem, set: PeerSetChange): "added" | "updated" | "unchanged" {
    const { registerId } = item;
    const { expiresAt, batch } = set;
    const existing = set.previous.get(registerId);
    const live = existing && existing.expiresAt > set.now ? existing : undefined;
    if (
      live && live.advertisement.syncState === item.syncState &&
      live.advertisement.latestVersion === item.latestVersion &&
      live.advertisement.latestDocketVersion === item.latestDocketVersion
    ) {
      this.#table.renew(live, expiresAt);
      set.next.set(registerId, live);
      batch.put.push({ advertisement: live.advertisement, expiresAt, valueChanged: false });
      return "unchanged";
    }
    const advertisement: Advertisement = {
      registerId,
      peerId: set.peerId,
      syncState: item.syncState,
      latestVersion: item.latestVersion,
      latestDocketVersion: item.latestDocketVersion,
      isPublic: true,
      lastUpdated: set.stamp,
    };
    set.next.set(registerId, { advertisement, expiresAt });
    batch.put.push({ advertisement, expiresAt, valueChanged: true });
    return live ? "updated" : "added";
  }

  /**
   * Renews the lease of everything `peerId` advertises, when a newer header
   * of its unchanged set arrives. Returns how many were renewed.
   */
  async renew(peerId: string, options: RemoteLeaseOptions = {}): Promise<number> {
    const now = this.#clock.now();
    this.#table.prune(now);
    const expiresAt = this.#table.remoteLeaseEnd(now, options.issuedAt);
    const put: AdvertisementWrite[] = [];
    for (const entry of this.#table.remote.get(peerId)?.values() ?? []) {
      if (entry.expiresAt <= now) continue;
      this.#table.renew(entry, Math.max(entry.expiresAt, expiresAt));
      put.push({
        advertisement: entry.advertisement,
        expiresAt: entry.expiresAt,
        valueChanged: false,
      });
    }
    await this.#persistence.write({ put, remove: [] });
    return put.length;
  }

  /** Removes everything `peerId` advertises here. Returns how many live ones there were. */
  async forget(peerId: string): Promise<number> {
    return (await this.replace(peerId, [])).removed;
  }

  /** What `peerId` advertises here, live, sorted by id. */
  items(peerId: string): RemoteItem[] {
    const now = this.#clock.now();
    const out: RemoteItem[] = [];
    for (const entry of this.#table.remote.get(peerId)?.values() ?? []) {
      if (entry.expiresAt > now) out.push(remoteItemOf(entry.advertisement));
    }
    return out.sort(byRegisterId);
  }
}
