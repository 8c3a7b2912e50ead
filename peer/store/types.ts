/**
 * What the peer keeps about advertisements, and the store interface every
 * persistence adapter (Redis, embedded SQLite, in-memory) implements.
 *
 * @module
 */

/** Replication states an advertisement can be in (contract names). */
export const SYNC_STATES = [
  "Subscribing",
  "Syncing",
  "FullyReplicated",
  "Active",
  "Error",
] as const;

/** One of {@link SYNC_STATES}. */
export type SyncState = typeof SYNC_STATES[number];

/** A register advertised locally (no `peerId`) or by another peer (`peerId` set). */
export interface Advertisement {
  /** The register, 32 lowercase hex characters. */
  registerId: string;
  /** The advertising peer; absent for this node's own (local) advertisements. */
  peerId?: string;
  /** How far the advertiser has replicated the register. */
  syncState: SyncState;
  /** Latest transaction version of the register. */
  latestVersion: number;
  /** Latest docket version of the register. */
  latestDocketVersion: number;
  /** Whether the register may be shown to and shared with other peers. */
  isPublic: boolean;
  /** When the advertisement's values last changed (ISO 8601). */
  lastUpdated: string;
}

/** An advertisement with the instant its lease ends. */
export interface StoredAdvertisement {
  /** The advertisement's values. */
  advertisement: Advertisement;
  /** When it expires, in milliseconds since the Unix epoch. */
  expiresAt: number;
}

/** One advertisement to write: its values, its new expiry, and whether the values changed. */
export interface AdvertisementWrite extends StoredAdvertisement {
  /**
   * `true`: the value is written. `false`: only the expiry is refreshed (no
   * value write), unless the entry is missing from the store, in which case
   * it is written again.
   */
  valueChanged: boolean;
}

/** Identifies an advertisement: a register, and the advertising peer for remote ones. */
export interface AdvertisementKey {
  /** The register. */
  registerId: string;
  /** The advertising peer; absent for local advertisements. */
  peerId?: string;
}

/** A set of changes sent to the store together. */
export interface StoreBatch {
  /** Advertisements to write or refresh. */
  put: AdvertisementWrite[];
  /** Advertisements to delete. */
  remove: AdvertisementKey[];
  /**
   * The record of the full sync this batch applies, saved with it as one: after a crash at any
   * instant the store holds every value change and deletion of the batch and this record, or
   * none of them (lease renewals of unchanged entries may land either way).
   */
  fullSync?: FullSyncRecord;
}

/** What a write did beyond what was asked. */
export interface WriteOutcome {
  /** Entries only to be refreshed that were missing from the store and were written again. */
  restored: number;
}

/** Counts of one bulk advertisement. */
export interface BulkCounts {
  /** Items received. */
  processed: number;
  /** New advertisements. */
  added: number;
  /** Advertisements whose values changed. */
  updated: number;
  /** Local advertisements removed by a full sync. */
  removed: number;
}

/** The outcome of the last full sync, kept in the store so it survives restarts. */
export interface FullSyncRecord {
  /** When it ran (ISO 8601). */
  at: string;
  /** Its counts. */
  counts: BulkCounts;
  /** `persisted` when the store took every change, `memory-only` when it was unreachable (changes are written once it returns). */
  outcome: "persisted" | "memory-only";
  /** Why the store did not take the changes, for `memory-only`. */
  storeError?: string;
}

/** Persistence of advertisements. Implementations: Redis, embedded SQLite, in-memory. */
export interface AdvertisementStore {
  /** `redis`, `sqlite` or `memory`. */
  readonly kind: string;
  /** Every advertisement whose lease has not ended, local and remote. */
  loadAll(): Promise<StoredAdvertisement[]>;
  /**
   * Applies a batch in one round trip (a second only to restore entries found missing); a batch
   * with a full-sync record is applied atomically with it (see {@link StoreBatch.fullSync}).
   */
  write(batch: StoreBatch): Promise<WriteOutcome>;
  /** The last full sync's record, if any. */
  loadFullSync(): Promise<FullSyncRecord | undefined>;
  /** Replaces the last full sync's record. */
  saveFullSync(record: FullSyncRecord): Promise<void>;
  /** Registers a listener called each time the store becomes reachable again after being unreachable. */
  onReconnect(listener: () => void): void;
  /** Releases connections and files. */
  close(): Promise<void>;
}

/** The store key of an advertisement: `peer:advert:local:{registerId}` or `peer:advert:remote:{peerId}:{registerId}`. */
export function advertisementKey(key: AdvertisementKey): string {
  return key.peerId === undefined
    ? `peer:advert:local:${key.registerId}`
    : `peer:advert:remote:${key.peerId}:${key.registerId}`;
}

/** Prefix of every local advertisement key. */
export const LOCAL_PREFIX = "peer:advert:local:";
/** Prefix of every remote advertisement key. */
export const REMOTE_PREFIX = "peer:advert:remote:";
/** Key of the last full sync's record. */
export const FULL_SYNC_KEY = "peer:advert:sync-state";

/** Reads a key back into its register and peer; `undefined` for a key that is not an advertisement's. */
export function parseAdvertisementKey(key: string): AdvertisementKey | undefined {
  if (key.startsWith(LOCAL_PREFIX)) return { registerId: key.slice(LOCAL_PREFIX.length) };
  if (key.startsWith(REMOTE_PREFIX)) {
    const rest = key.slice(REMOTE_PREFIX.length);
    const cut = rest.lastIndexOf(":");
    if (cut <= 0) return undefined;
    return { peerId: rest.slice(0, cut), registerId: rest.slice(cut + 1) };
  }
  return undefined;
}

/** The JSON value stored for an advertisement (the record without its key fields' duplication rules: it keeps them all). */
export function encodeAdvertisement(advertisement: Advertisement): string {
  return JSON.stringify(advertisement);
}

/** Parses a stored JSON value; `undefined` when it is not an advertisement. */
export function decodeAdvertisement(value: string): Advertisement | undefined {
  try {
    const parsed = JSON.parse(value) as Partial<Advertisement>;
    if (
      typeof parsed.registerId !== "string" || typeof parsed.isPublic !== "boolean" ||
      typeof parsed.latestVersion !== "number" || typeof parsed.latestDocketVersion !== "number"
    ) return undefined;
    return {
      registerId: parsed.registerId,
      ...(typeof parsed.peerId === "string" ? { peerId: parsed.peerId } : {}),
      syncState: parsed.syncState ?? "Active",
      latestVersion: parsed.latestVersion,
      latestDocketVersion: parsed.latestDocketVersion,
      isPublic: parsed.isPublic,
      lastUpdated: parsed.lastUpdated ?? new Date(0).toISOString(),
    };
  } catch {
    return undefined;
  }
}

/** Whether two advertisements carry the same values (`lastUpdated` aside). */
export function sameValues(a: Advertisement, b: Advertisement): boolean {
  return a.registerId === b.registerId && a.peerId === b.peerId && a.syncState === b.syncState &&
    a.latestVersion === b.latestVersion && a.latestDocketVersion === b.latestDocketVersion &&
    a.isPublic === b.isPublic;
}
