/**
 * This node's own advertisements (the local set): one register advertised
 * or withdrawn, many advertised at once, and the full sync, whose list
 * becomes the complete local set (every other local advertisement is
 * removed; remote ones are untouched). Counts come from memory, so they are
 * exact whether or not the store takes the change; an unchanged advertisement
 * only has its lease renewed. A full sync's changes and its record are written
 * as one (`persistence.ts`).
 *
 * Identical requests are cheap: given the digest of a request's body, a bulk
 * request identical to the last one applied, with nothing it set changed
 * since, only renews leases (and, for a full sync, its record), without the
 * request being read again.
 *
 * @module
 */
import type { Clock } from "../../shared/clock.ts";
import { AppError } from "../../shared/errors.ts";
import type {
  Advertisement,
  AdvertisementWrite,
  BulkCounts,
  StoreBatch,
  StoredAdvertisement,
} from "../store/mod.ts";
import type { LeaseTable } from "./lease_table.ts";
import type { Persistence } from "./persistence.ts";

/** One local advertisement as a bulk request sets it. */
export interface LocalItem {
  /** The register (any case; kept in lower case). */
  registerId: string;
  /** Whether the register may be shown to and shared with other peers. */
  isPublic: boolean;
  /** Its latest version. */
  latestVersion: number;
  /** Its latest docket version. */
  latestDocketVersion: number;
}

/** What a bulk advertisement did. */
export interface BulkResult extends BulkCounts {
  /** Advertisements already as sent: lease renewed, nothing rewritten. */
  unchanged: number;
  /** Whether the store took the changes now. */
  persisted: boolean;
}

/** Options of {@link LocalSet.bulk}. */
export interface LocalBulkOptions {
  /** Digest of the request's body, remembered so that an identical request is renewed cheaply. */
  digest?: string | undefined;
  /** Names the item at an index in messages (default `advertisements[<index>]`). */
  describe?: (index: number) => string;
}

/** What a single advertise call sets. */
export interface AdvertiseOptions {
  /** Whether the register is public. */
  isPublic: boolean;
  /** New version; the known one is kept when absent. */
  latestVersion?: number | undefined;
  /** New docket version; the known one is kept when absent. */
  latestDocketVersion?: number | undefined;
}

/** The outcome of a single advertise call. */
export interface AdvertiseResult {
  /** Whether the advertisement was new, changed, or already as asked. */
  outcome: "added" | "updated" | "unchanged";
  /** The advertisement and its lease. */
  entry: StoredAdvertisement;
  /** Whether the store took the change now. */
  persisted: boolean;
}

/** The outcome of a withdrawal. */
export interface WithdrawResult {
  /** The register, in lower case. */
  registerId: string;
  /** Whether a live advertisement was removed. */
  removed: boolean;
  /** Whether the store took the change now. */
  persisted: boolean;
}

/** Options of {@link LocalSet}. */
export interface LocalSetOptions {
  /** Where changes are written. */
  persistence: Persistence;
  /** Time source. */
  clock: Clock;
}

/** A bulk request applied before: its digest and the entries it left. */
interface AppliedBulk {
  digest: string;
  fullSync: boolean;
  entries: { registerId: string; entry: StoredAdvertisement }[];
}

/** Where one change is made: its time, lease end, and the batch collecting its writes. */
interface Change {
  now: number;
  expiresAt: number;
  stamp: string;
  batch: StoreBatch;
}

/** The local set; see the module documentation. */
export class LocalSet {
  readonly #table: LeaseTable;
  readonly #persistence: Persistence;
  readonly #clock: Clock;
  /** The last bulk request applied with a body digest, for {@link renewIdentical}. */
  #lastBulk: AppliedBulk | undefined;

  /** The local entries of `table`. */
  constructor(table: LeaseTable, options: LocalSetOptions) {
    this.#table = table;
    this.#persistence = options.persistence;
    this.#clock = options.clock;
  }

  /**
   * Applies a bulk advertisement; with `fullSync` the list becomes the complete local set,
   * written with its record as one. A register listed twice is an `invalid_argument` error,
   * raised before anything changes.
   */
  async bulk(
    request: { advertisements: readonly LocalItem[]; fullSync: boolean },
    options: LocalBulkOptions = {},
  ): Promise<BulkResult> {
    const items = request.advertisements;
    const ids = distinctRegisterIds(items, options.describe);
    const change = this.#change();
    const tally = { added: 0, updated: 0, unchanged: 0 };
    ids.forEach((registerId, index) => {
      const item = items[index]!;
      tally[this.#apply(registerId === item.registerId ? item : { ...item, registerId }, change)]++;
    });
    let removed = 0;
    if (request.fullSync) {
      const keep = new Set(ids);
      // Deleting the entry being visited is safe while iterating a Map.
      for (const [registerId, entry] of this.#table.local) {
        if (keep.has(registerId)) continue;
        this.#table.deleteLocal(registerId);
        change.batch.remove.push({ registerId });
        if (entry.expiresAt > change.now) removed++;
      }
    }
    this.#lastBulk = options.digest === undefined ? undefined : {
      digest: options.digest,
      fullSync: request.fullSync,
      entries: ids.map((registerId) => ({ registerId, entry: this.#table.local.get(registerId)! })),
    };
    const counts = { processed: items.length, added: tally.added, updated: tally.updated, removed };
    const persisted = request.fullSync
      ? await this.#persistence.writeFullSync(change.batch, { at: change.stamp, counts })
      : await this.#persistence.write(change.batch);
    return { ...counts, unchanged: tally.unchanged, persisted };
  }

  /**
   * Renews the leases of a bulk request identical to the last one applied (same body digest)
   * when nothing it set has changed since: the answer it would get in full (everything
   * unchanged). `undefined` when that cannot be shown; the request is then applied in full.
   */
  async renewIdentical(digest: string): Promise<BulkResult | undefined> {
    const last = this.#lastBulk;
    if (last?.digest !== digest) return undefined;
    const now = this.#clock.now();
    if (last.fullSync && this.#table.local.size !== last.entries.length) return undefined;
    for (const { registerId, entry } of last.entries) {
      if (this.#table.local.get(registerId) !== entry || entry.expiresAt <= now) return undefined;
    }
    const expiresAt = this.#table.leaseEnd(now);
    const put: AdvertisementWrite[] = last.entries.map(({ entry }) => {
      this.#table.renew(entry, expiresAt);
      return { advertisement: entry.advertisement, expiresAt, valueChanged: false };
    });
    const counts = { processed: put.length, added: 0, updated: 0, removed: 0 };
    const batch = { put, remove: [] };
    const persisted = last.fullSync
      ? await this.#persistence.writeFullSync(batch, { at: new Date(now).toISOString(), counts })
      : await this.#persistence.write(batch);
    return { ...counts, unchanged: put.length, persisted };
  }

  /** Whether the last bulk request applied with a digest (see {@link renewIdentical}) was a full sync. */
  get lastBulkWasFullSync(): boolean {
    return this.#lastBulk?.fullSync === true;
  }

  /** Advertises one local register; versions not given keep their known values. */
  async advertise(id: string, options: AdvertiseOptions): Promise<AdvertiseResult> {
    const registerId = id.toLowerCase();
    const change = this.#change();
    const known = this.#table.liveLocal(registerId, change.now)?.advertisement;
    const outcome = this.#apply({
      registerId,
      isPublic: options.isPublic,
      latestVersion: options.latestVersion ?? known?.latestVersion ?? 0,
      latestDocketVersion: options.latestDocketVersion ?? known?.latestDocketVersion ?? 0,
    }, change);
    const persisted = await this.#persistence.write(change.batch);
    return { outcome, entry: this.#table.local.get(registerId)!, persisted };
  }

  /** Stops advertising one local register. */
  async withdraw(id: string): Promise<WithdrawResult> {
    const registerId = id.toLowerCase();
    const now = this.#clock.now();
    this.#table.prune(now);
    const entry = this.#table.deleteLocal(registerId);
    // Deleted in the store even when unknown here: the store may hold it while
    // it has not been loaded yet, and a delete of nothing is harmless.
    const persisted = await this.#persistence.write({ put: [], remove: [{ registerId }] });
    return {
      registerId,
      removed: entry !== undefined && entry.expiresAt > this.#clock.now(),
      persisted,
    };
  }

  /** A change starting now, with expired entries pruned first. */
  #change(): Change {
    const now = this.#clock.now();
    this.#table.prune(now);
    return {
      now,
      expiresAt: this.#table.leaseEnd(now),
      stamp: new Date(now).toISOString(),
      batch: { put: [], remove: [] },
    };
  }

  /** Sets one local advertisement (its id in lower case), or only renews it when unchanged. */
  #apply(item: LocalItem, change: Change): AdvertiseResult["outcome"] {
    const existing = this.#table.liveLocal(item.registerId, change.now);
    if (
      existing && existing.advertisement.isPublic === item.isPublic &&
      existing.advertisement.latestVersion === item.latestVersion &&
      existing.advertisement.latestDocketVersion === item.latestDocketVersion
    ) {
      this.#table.renew(existing, change.expiresAt);
      change.batch.put.push({
        advertisement: existing.advertisement,
        expiresAt: change.expiresAt,
        valueChanged: false,
      });
      return "unchanged";
    }
    const advertisement: Advertisement = {
      registerId: item.registerId,
      syncState: existing?.advertisement.syncState ?? "Active",
      latestVersion: item.latestVersion,
      latestDocketVersion: item.latestDocketVersion,
      isPublic: item.isPublic,
      lastUpdated: change.stamp,
    };
    this.#table.put({ advertisement, expiresAt: change.expiresAt });
    change.batch.put.push({ advertisement, expiresAt: change.expiresAt, valueChanged: true });
    return existing ? "updated" : "added";
  }
}

/**
 * The lower-cased ids of a bulk request's items, in order; a repeated
 * register (ids compared case-insensitively) is an `invalid_argument` error.
 * `describe` names an item by its index.
 */
function distinctRegisterIds(
  items: readonly LocalItem[],
  describe: (index: number) => string = (index) => `advertisements[${index}]`,
): string[] {
  const ids: string[] = [];
  const seen = new Set<string>();
  for (let index = 0; index < items.length; index++) {
    const id = items[index]!.registerId.toLowerCase();
    if (seen.has(id)) {
      const first = ids.indexOf(id);
      throw new AppError(
        "invalid_argument",
        `Cannot bulk-advertise registers: ${describe(index)}.registerId repeats ${
          describe(first)
        }.registerId "${items[index]!.registerId}"`,
      );
    }
    seen.add(id);
    ids.push(id);
  }
  return ids;
}
