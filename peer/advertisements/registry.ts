/**
 * The peer's advertisements: served from memory, written through to the
 * store, loaded from it at start, and expired by lease.
 *
 * Leases: every advertisement written or refreshed gets a lease of
 * `ttl + grace`. An advertisement not refreshed within that time leaves
 * `available` (and its store entry expires at the same instant). The grace
 * makes a refresh that arrives a little after the TTL (a reconciliation that
 * runs late, a retry) find the advertisement still there, so a register that
 * is refreshed on schedule never blinks out.
 *
 * @module
 */
import type { Logger } from "@logtape/logtape";
import { type Clock, systemClock } from "../../shared/clock.ts";
import { AppError } from "../../shared/errors.ts";
import { log } from "../../shared/logging.ts";
import type { DependencyState } from "../../shared/http/app.ts";
import type {
  AdvertisementItem,
  AvailableRegisterInfo,
  BulkAdvertiseRequest,
  BulkAdvertiseResponse,
  SyncStateResponse,
} from "../../shared/contracts/advertisements.ts";
import {
  type Advertisement,
  type AdvertisementKey,
  advertisementKey,
  type AdvertisementStore,
  type AdvertisementWrite,
  type FullSyncRecord,
  sameValues,
  type StoreBatch,
  type StoredAdvertisement,
} from "../store/types.ts";
import { createSystemScheduler, type Scheduler } from "../../shared/schedule.ts";
import { StoreLink } from "./store_link.ts";
import { DEFAULT_PART_TIMEOUT_MS, SyncParts } from "./sync_parts.ts";

/** Options of {@link AdvertisementRegistry}. */
export interface AdvertisementRegistryOptions {
  /** How long an advertisement is promised to stay without a refresh, in ms. */
  ttlMs: number;
  /** Extra time a late refresh is still in time for, in ms. */
  graceMs: number;
  /** Time source (default: the system clock). */
  clock?: Clock;
  /** Logger (default: `sorcha.peer.advertisements`). */
  logger?: Logger;
  /** First delay before retrying an unreachable store, in ms (default 500). */
  initialRetryDelayMs?: number;
  /** Longest delay between retries of an unreachable store, in ms (default 30 000). */
  maxRetryDelayMs?: number;
  /** Wakes the expiry of unfinished full syncs sent in parts (default: the system scheduler). */
  scheduler?: Scheduler;
  /** How long the parts of an unfinished full sync are kept after its latest part, in ms (default 120 000). */
  partTimeoutMs?: number;
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

interface AvailableSnapshot {
  list: AvailableRegisterInfo[];
  json: string;
  validUntil: number;
}

type Entry = StoredAdvertisement;

/** Options of {@link AdvertisementRegistry.bulkAdvertise}. */
export interface BulkOptions {
  /** Digest of the request's body, remembered so an identical request can be renewed cheaply. */
  digest?: string | undefined;
}

/** One advertisement another peer asserts for itself in a gossip exchange (always public). */
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

/** Options of {@link AdvertisementRegistry.replaceRemote} and {@link AdvertisementRegistry.renewRemote}. */
export interface RemoteLeaseOptions {
  /** When the owner issued the set (ms since the epoch): the lease runs from then. Default: now. */
  issuedAt?: number;
}

function remoteItemOf(ad: Advertisement): RemoteItem {
  return {
    registerId: ad.registerId,
    syncState: ad.syncState,
    latestVersion: ad.latestVersion,
    latestDocketVersion: ad.latestDocketVersion,
  };
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

function byRegisterId(a: { registerId: string }, b: { registerId: string }): number {
  return a.registerId < b.registerId ? -1 : a.registerId > b.registerId ? 1 : 0;
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

/** A bulk request applied before: its digest and the entries it left. */
interface AppliedBulk {
  digest: string;
  fullSync: boolean;
  entries: { registerId: string; entry: Entry }[];
}

/**
 * The lower-cased ids of a bulk request's items, in order; a repeated
 * register (ids compared case-insensitively) is an `invalid_argument` error,
 * raised before anything changes. `describe` names an item by its index.
 */
function distinctRegisterIds(
  items: readonly AdvertisementItem[],
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

/** The peer's advertisements, local and remote. */
export class AdvertisementRegistry {
  readonly #store: AdvertisementStore;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #ttlMs: number;
  readonly #leaseMs: number;
  readonly #link: StoreLink;
  readonly #parts: SyncParts;
  readonly #local = new Map<string, Entry>();
  readonly #remote = new Map<string, Map<string, Entry>>();
  /** Keys changed in memory before the store's contents were ever loaded: memory wins for them. */
  readonly #changedBeforeLoad = new Set<string>();
  /** A full sync arrived before the store's contents were loaded: stored local entries are stale. */
  #localSetKnownBeforeLoad = false;
  /** Peers whose whole set arrived before the store's contents were loaded: their stored entries are stale. */
  readonly #remoteSetsKnownBeforeLoad = new Set<string>();
  #loaded = false;
  #starting: Promise<void> | undefined;
  #started = false;
  #lastFullSync: FullSyncRecord | undefined;
  #snapshot: AvailableSnapshot | undefined;
  /** The last bulk request applied with a body digest, for {@link renewIdentical}. */
  #lastBulk: AppliedBulk | undefined;
  /** {@link publicLocal}'s answer, until the local set changes or one of them expires. */
  #publicLocalCache: { items: RemoteItem[]; validUntil: number } | undefined;
  /** Lease renewals sent to the store and not awaited by their request. */
  readonly #background = new Set<Promise<boolean>>();

  /** Creates the registry over a store; call {@link start} to load it. */
  constructor(store: AdvertisementStore, options: AdvertisementRegistryOptions) {
    this.#store = store;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? log("peer", "advertisements");
    this.#ttlMs = options.ttlMs;
    this.#leaseMs = options.ttlMs + options.graceMs;
    this.#link = new StoreLink(store, {
      recover: () => this.#recover(),
      logger: this.#logger,
      ...(options.initialRetryDelayMs ? { initialRetryDelayMs: options.initialRetryDelayMs } : {}),
      ...(options.maxRetryDelayMs ? { maxRetryDelayMs: options.maxRetryDelayMs } : {}),
    });
    this.#parts = new SyncParts({
      clock: this.#clock,
      scheduler: options.scheduler ?? createSystemScheduler({ clock: this.#clock }),
      timeoutMs: options.partTimeoutMs ?? DEFAULT_PART_TIMEOUT_MS,
      logger: this.#logger,
    });
  }

  /** Loads every advertisement from the store (once). With the store unreachable, starts empty and degraded. */
  start(): Promise<void> {
    this.#starting ??= this.#load();
    return this.#starting;
  }

  /** Whether {@link start} has finished. */
  get started(): boolean {
    return this.#started;
  }

  /** Whether the store's contents are in memory (false while it was unreachable since start). */
  get loaded(): boolean {
    return this.#loaded;
  }

  async #load(): Promise<void> {
    const began = performance.now();
    try {
      const [stored, fullSync] = await Promise.all([
        this.#store.loadAll(),
        this.#store.loadFullSync(),
      ]);
      const now = this.#clock.now();
      let local = 0;
      let remote = 0;
      for (const entry of stored) {
        if (entry.expiresAt <= now) continue;
        this.#set(entry);
        if (entry.advertisement.peerId === undefined) local++;
        else remote++;
      }
      this.#lastFullSync = fullSync;
      this.#loaded = true;
      this.#link.succeeded();
      this.#logger.info(
        "Loaded {local} local and {remote} remote advertisements from the {kind} store in {ms} ms",
        { local, remote, kind: this.#store.kind, ms: Math.round(performance.now() - began) },
      );
    } catch (error) {
      this.#link.failed(error, "loading advertisements at start");
    } finally {
      this.#invalidate();
      this.#started = true;
    }
  }

  /**
   * Applies a bulk advertisement; with `fullSync` the list becomes the complete local set. A
   * part of a full sync (`syncId`) is kept aside, changing nothing, until the last part, which
   * applies the union of the parts as one full sync.
   */
  async bulkAdvertise(
    request: BulkAdvertiseRequest,
    options: BulkOptions = {},
  ): Promise<BulkAdvertiseResponse> {
    await this.start();
    if (request.syncId !== undefined) {
      const whole = this.#parts.take({ ...request, syncId: request.syncId, part: request.part! });
      if (!whole) {
        const processed = request.advertisements.length;
        const none = { added: 0, updated: 0, removed: 0, unchanged: 0 };
        return { processed, ...none, persisted: this.#link.writable };
      }
      // Parts carry a new id each time: no body of theirs is ever sent again as it is.
      return await this.#applyBulk(
        { advertisements: whole.items, fullSync: true },
        { describe: whole.describe },
      );
    }
    return await this.#applyBulk(request, options);
  }

  async #applyBulk(
    request: Pick<BulkAdvertiseRequest, "advertisements" | "fullSync">,
    options: BulkOptions & { describe?: (index: number) => string },
  ): Promise<BulkAdvertiseResponse> {
    const now = this.#clock.now();
    const expiresAt = now + this.#leaseMs;
    const stamp = new Date(now).toISOString();
    const batch: StoreBatch = { put: [], remove: [] };
    let added = 0;
    let updated = 0;
    let unchanged = 0;
    let removed = 0;
    const items = request.advertisements;
    const ids = distinctRegisterIds(items, options.describe);
    for (let index = 0; index < items.length; index++) {
      const item = items[index]!;
      const registerId = ids[index]!;
      const outcome = this.#applyLocal(
        registerId === item.registerId ? item : { ...item, registerId },
        { now, expiresAt, stamp, batch },
      );
      if (outcome === "added") added++;
      else if (outcome === "updated") updated++;
      else unchanged++;
    }
    if (request.fullSync) {
      const keep = new Set(ids);
      for (const [registerId, entry] of this.#local) {
        if (keep.has(registerId)) continue;
        this.#local.delete(registerId);
        if (this.#publicLocalCache) this.#publicLocalCache.validUntil = 0;
        batch.remove.push({ registerId });
        if (entry.expiresAt > now) removed++;
      }
      if (!this.#loaded) this.#localSetKnownBeforeLoad = true;
    }
    this.#lastBulk = options.digest === undefined ? undefined : {
      digest: options.digest,
      fullSync: request.fullSync,
      entries: ids.map((registerId) => ({ registerId, entry: this.#local.get(registerId)! })),
    };
    const counts = { processed: items.length, added, updated, removed };
    const persisted = request.fullSync
      ? await this.#persistFullSync(batch, { at: stamp, counts })
      : await this.#persist(batch);
    return { ...counts, unchanged, persisted };
  }

  /**
   * Renews the leases of a bulk request identical to the last one applied
   * (same body digest) when nothing it set has changed since: the answer it
   * would get in full (everything unchanged) without parsing it again.
   * Returns `undefined` when that cannot be shown; the caller then applies
   * the request in full.
   */
  async renewIdentical(digest: string): Promise<BulkAdvertiseResponse | undefined> {
    await this.start();
    const last = this.#lastBulk;
    if (last?.digest !== digest) return undefined;
    const now = this.#clock.now();
    if (last.fullSync && this.#local.size !== last.entries.length) return undefined;
    for (const { registerId, entry } of last.entries) {
      if (this.#local.get(registerId) !== entry || entry.expiresAt <= now) return undefined;
    }
    const expiresAt = now + this.#leaseMs;
    const put: AdvertisementWrite[] = last.entries.map(({ entry }) => {
      entry.expiresAt = expiresAt;
      return { advertisement: entry.advertisement, expiresAt, valueChanged: false };
    });
    const counts = { processed: put.length, added: 0, updated: 0, removed: 0 };
    const persisted = last.fullSync
      ? await this.#persistFullSync({ put, remove: [] }, {
        at: new Date(now).toISOString(),
        counts,
      })
      : await this.#persist({ put, remove: [] });
    return { ...counts, unchanged: put.length, persisted };
  }

  /** Advertises one local register; versions not given keep their known values. */
  async advertise(id: string, options: AdvertiseOptions): Promise<AdvertiseResult> {
    await this.start();
    const registerId = id.toLowerCase();
    const now = this.#clock.now();
    const existing = this.#liveLocal(registerId, now);
    const batch: StoreBatch = { put: [], remove: [] };
    const outcome = this.#applyLocal({
      registerId,
      isPublic: options.isPublic,
      latestVersion: options.latestVersion ?? existing?.advertisement.latestVersion ?? 0,
      latestDocketVersion: options.latestDocketVersion ??
        existing?.advertisement.latestDocketVersion ?? 0,
    }, { now, expiresAt: now + this.#leaseMs, stamp: new Date(now).toISOString(), batch });
    const persisted = await this.#persist(batch);
    return { outcome, entry: this.#local.get(registerId)!, persisted };
  }

  /** Stops advertising one local register. */
  async withdraw(id: string): Promise<WithdrawResult> {
    await this.start();
    const registerId = id.toLowerCase();
    const entry = this.#local.get(registerId);
    this.#local.delete(registerId);
    if (this.#publicLocalCache) this.#publicLocalCache.validUntil = 0;
    // Deleted in the store even when unknown here: the store may hold it while
    // it has not been loaded yet, and a delete of nothing is harmless.
    const persisted = await this.#persist({ put: [], remove: [{ registerId }] });
    return {
      registerId,
      removed: entry !== undefined && entry.expiresAt > this.#clock.now(),
      persisted,
    };
  }

  /**
   * Replaces everything `peerId` advertises with `items`, its complete set
   * as received in a gossip exchange: new and changed ones are written,
   * unchanged ones have their lease renewed, and the ones it no longer sends
   * are removed. Other peers' advertisements and local ones are untouched.
   */
  async replaceRemote(
    peerId: string,
    items: readonly RemoteItem[],
    options: RemoteLeaseOptions = {},
  ): Promise<RemoteReplaceResult> {
    await this.start();
    const now = this.#clock.now();
    const expiresAt = this.#remoteExpiry(now, options.issuedAt);
    const stamp = new Date(now).toISOString();
    const batch: StoreBatch = { put: [], remove: [] };
    const previous = this.#remote.get(peerId) ?? new Map<string, Entry>();
    const next = new Map<string, Entry>();
    let added = 0;
    let updated = 0;
    let unchanged = 0;
    let removed = 0;
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
    for (let index = 0; index < items.length; index++) {
      const item = items[index]!;
      const registerId = ids[index]!;
      const existing = previous.get(registerId);
      const live = existing && existing.expiresAt > now ? existing : undefined;
      if (
        live && live.advertisement.syncState === item.syncState &&
        live.advertisement.latestVersion === item.latestVersion &&
        live.advertisement.latestDocketVersion === item.latestDocketVersion
      ) {
        live.expiresAt = expiresAt;
        next.set(registerId, live);
        batch.put.push({ advertisement: live.advertisement, expiresAt, valueChanged: false });
        unchanged++;
        continue;
      }
      const advertisement: Advertisement = {
        registerId,
        peerId,
        syncState: item.syncState,
        latestVersion: item.latestVersion,
        latestDocketVersion: item.latestDocketVersion,
        isPublic: true,
        lastUpdated: stamp,
      };
      next.set(registerId, { advertisement, expiresAt });
      batch.put.push({ advertisement, expiresAt, valueChanged: true });
      if (live) updated++;
      else added++;
    }
    for (const [registerId, entry] of previous) {
      if (next.has(registerId)) continue;
      batch.remove.push({ registerId, peerId });
      if (entry.expiresAt > now) removed++;
    }
    if (next.size === 0) this.#remote.delete(peerId);
    else this.#remote.set(peerId, next);
    if (!this.#loaded) this.#remoteSetsKnownBeforeLoad.add(peerId);
    const persisted = await this.#persist(batch, { background: true });
    return { processed: items.length, added, updated, removed, unchanged, persisted };
  }

  /**
   * Renews the lease of everything `peerId` advertises, when a newer header
   * of its unchanged set arrives. Returns how many were renewed.
   */
  async renewRemote(peerId: string, options: RemoteLeaseOptions = {}): Promise<number> {
    await this.start();
    const now = this.#clock.now();
    const expiresAt = this.#remoteExpiry(now, options.issuedAt);
    const put: AdvertisementWrite[] = [];
    for (const entry of this.#remote.get(peerId)?.values() ?? []) {
      if (entry.expiresAt <= now) continue;
      entry.expiresAt = Math.max(entry.expiresAt, expiresAt);
      put.push({
        advertisement: entry.advertisement,
        expiresAt: entry.expiresAt,
        valueChanged: false,
      });
    }
    await this.#persist({ put, remove: [] });
    return put.length;
  }

  /** Removes everything `peerId` advertises here. Returns how many live ones there were. */
  async forgetRemote(peerId: string): Promise<number> {
    return (await this.replaceRemote(peerId, [])).removed;
  }

  /** What `peerId` advertises here, live, sorted by id. */
  remoteItems(peerId: string): RemoteItem[] {
    const now = this.#clock.now();
    const out: RemoteItem[] = [];
    for (const entry of this.#remote.get(peerId)?.values() ?? []) {
      if (entry.expiresAt > now) out.push(remoteItemOf(entry.advertisement));
    }
    return out.sort(byRegisterId);
  }

  /**
   * This node's public local advertisements (what it tells other peers),
   * sorted by id. The same array comes back until the set changes, so a
   * caller can tell "unchanged" by identity.
   */
  publicLocal(): RemoteItem[] {
    const now = this.#clock.now();
    const cached = this.#publicLocalCache;
    if (cached && now < cached.validUntil) return cached.items;
    const out: RemoteItem[] = [];
    let validUntil = Number.POSITIVE_INFINITY;
    for (const entry of this.#local.values()) {
      const ad = entry.advertisement;
      if (entry.expiresAt <= now || !ad.isPublic) continue;
      out.push(remoteItemOf(ad));
      validUntil = Math.min(validUntil, entry.expiresAt);
    }
    out.sort(byRegisterId);
    if (cached && sameItems(cached.items, out)) {
      cached.validUntil = validUntil;
      return cached.items;
    }
    this.#publicLocalCache = { items: out, validUntil };
    return out;
  }

  /** Public registers, local and remote, one entry per register, sorted by id. */
  available(): AvailableRegisterInfo[] {
    return this.#available().list;
  }

  /** {@link available} as JSON text, cached until something changes or a lease ends. */
  availableJson(): string {
    return this.#available().json;
  }

  /** The last full sync and the counts and store state behind it. */
  syncState(): SyncStateResponse {
    const now = this.#clock.now();
    let localCount = 0;
    let publicLocalCount = 0;
    let remoteCount = 0;
    for (const entry of this.#local.values()) {
      if (entry.expiresAt <= now) continue;
      localCount++;
      if (entry.advertisement.isPublic) publicLocalCount++;
    }
    for (const peer of this.#remote.values()) {
      for (const entry of peer.values()) if (entry.expiresAt > now) remoteCount++;
    }
    return {
      lastFullSync: this.#lastFullSync ?? null,
      localCount,
      publicLocalCount,
      remoteCount,
      ttlSeconds: this.#ttlMs / 1000,
      leaseSeconds: this.#leaseMs / 1000,
      store: this.#storeState(),
      pendingSyncs: this.#parts.pending(),
    };
  }

  /** The store's state as `/readyz` shows it: `ok`, `degraded` (serving from memory) or `starting`. */
  readiness(): DependencyState {
    return this.#storeState();
  }

  /** Runs store recovery now; for tests and operators' tools. */
  recoverStore(): Promise<void> {
    return this.#link.recover();
  }

  /** Resolves when no store recovery or lease renewal is running; for tests. */
  async storeSettled(): Promise<void> {
    await Promise.all(this.#background);
    await this.#link.settled();
  }

  /** Stops store retries. The store itself is closed by its owner. */
  async close(): Promise<void> {
    this.#parts.close();
    await this.#starting;
    await Promise.all(this.#background);
    await this.#link.close();
  }

  #storeState(): SyncStateResponse["store"] {
    return {
      kind: this.#store.kind,
      state: this.#link.state,
      loaded: this.#loaded,
      ...(this.#link.lastError ? { lastError: this.#link.lastError } : {}),
    };
  }

  /**
   * When a remote advertisement's lease ends: a lease from the header's
   * issue time (so a header relayed late gives no extra time), never later
   * than a full lease from now (an owner's clock ahead of this one).
   */
  #remoteExpiry(now: number, issuedAt: number | undefined): number {
    return Math.min(issuedAt ?? now, now) + this.#leaseMs;
  }

  #liveLocal(registerId: string, now: number): Entry | undefined {
    const entry = this.#local.get(registerId);
    return entry && entry.expiresAt > now ? entry : undefined;
  }

  #applyLocal(
    item: AdvertisementItem,
    at: { now: number; expiresAt: number; stamp: string; batch: StoreBatch },
  ): AdvertiseResult["outcome"] {
    const existing = this.#liveLocal(item.registerId, at.now);
    if (
      existing && existing.advertisement.isPublic === item.isPublic &&
      existing.advertisement.latestVersion === item.latestVersion &&
      existing.advertisement.latestDocketVersion === item.latestDocketVersion
    ) {
      existing.expiresAt = at.expiresAt;
      at.batch.put.push({
        advertisement: existing.advertisement,
        expiresAt: at.expiresAt,
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
      lastUpdated: at.stamp,
    };
    this.#local.set(item.registerId, { advertisement, expiresAt: at.expiresAt });
    if (this.#publicLocalCache) this.#publicLocalCache.validUntil = 0;
    at.batch.put.push({ advertisement, expiresAt: at.expiresAt, valueChanged: true });
    return existing ? "updated" : "added";
  }

  #set(entry: Entry): void {
    const peerId = entry.advertisement.peerId;
    if (peerId === undefined) {
      this.#local.set(entry.advertisement.registerId, entry);
      if (this.#publicLocalCache) this.#publicLocalCache.validUntil = 0;
      return;
    }
    let peer = this.#remote.get(peerId);
    if (!peer) this.#remote.set(peerId, peer = new Map());
    peer.set(entry.advertisement.registerId, entry);
  }

  #has(key: AdvertisementKey): boolean {
    return key.peerId === undefined
      ? this.#local.has(key.registerId)
      : this.#remote.get(key.peerId)?.has(key.registerId) === true;
  }

  *#entries(): Iterable<Entry> {
    yield* this.#local.values();
    for (const peer of this.#remote.values()) yield* peer.values();
  }

  /** Writes a batch through to the store; while it is degraded, memory alone takes the change. */
  async #persist(batch: StoreBatch, options: { background?: boolean } = {}): Promise<boolean> {
    if (batch.put.length === 0 && batch.remove.length === 0 && !batch.fullSync) {
      return this.#link.writable;
    }
    this.#invalidate();
    this.#link.changed();
    if (!this.#loaded) {
      for (const item of batch.put) {
        this.#changedBeforeLoad.add(advertisementKey(item.advertisement));
      }
      for (const key of batch.remove) this.#changedBeforeLoad.add(advertisementKey(key));
    }
    if (!this.#link.writable) return false;
    const failed = (error: unknown) => {
      this.#link.failed(error, "writing advertisements");
      return false;
    };
    let writing: Promise<boolean>;
    try {
      writing = this.#store.write(batch).then(() => true, failed);
    } catch (error) {
      return failed(error);
    }
    if (
      options.background ||
      (batch.remove.length === 0 && !batch.fullSync &&
        batch.put.every((item) => !item.valueChanged))
    ) {
      // Lease renewals, and other peers' sets (gossip brings them again): sent
      // now, in order with later writes, but not awaited. A failure marks the
      // store degraded, and recovery writes what memory holds.
      this.#background.add(writing);
      void writing.finally(() => this.#background.delete(writing));
      return true;
    }
    return await writing;
  }

  /**
   * Writes a full sync's changes and its record as one (the store applies them atomically),
   * and keeps the record: `persisted` when the store took them, `memory-only` (saved by the
   * recovery) when it did not.
   */
  async #persistFullSync(
    batch: StoreBatch,
    sync: Pick<FullSyncRecord, "at" | "counts">,
  ): Promise<boolean> {
    const record: FullSyncRecord = { ...sync, outcome: "persisted" };
    this.#lastFullSync = record;
    const persisted = await this.#persist({ ...batch, fullSync: record });
    // Not taken (the store is degraded): kept as memory-only, which the recovery saves.
    if (!persisted && this.#lastFullSync === record) {
      this.#lastFullSync = {
        ...sync,
        outcome: "memory-only",
        ...(this.#link.lastError ? { storeError: this.#link.lastError } : {}),
      };
      this.#link.changed();
    }
    return persisted;
  }

  /** Brings the store up to date with memory (and memory with the store, if it was never loaded). */
  async #recover(): Promise<void> {
    const stored = await this.#store.loadAll();
    const now = this.#clock.now();
    if (!this.#loaded) {
      const fullSync = await this.#store.loadFullSync();
      let adopted = 0;
      for (const entry of stored) {
        const key = advertisementKey(entry.advertisement);
        const peerId = entry.advertisement.peerId;
        const staleSet = peerId === undefined
          ? this.#localSetKnownBeforeLoad
          : this.#remoteSetsKnownBeforeLoad.has(peerId);
        if (
          entry.expiresAt <= now || this.#changedBeforeLoad.has(key) || staleSet ||
          this.#has(entry.advertisement)
        ) continue;
        this.#set(entry);
        adopted++;
      }
      if (!this.#lastFullSync) this.#lastFullSync = fullSync;
      this.#loaded = true;
      this.#changedBeforeLoad.clear();
      this.#remoteSetsKnownBeforeLoad.clear();
      this.#invalidate();
      this.#logger.info("Merged {adopted} advertisements from the {kind} store into memory", {
        adopted,
        kind: this.#store.kind,
      });
    }
    const storedByKey = new Map(
      stored.map((entry) => [advertisementKey(entry.advertisement), entry]),
    );
    const put: AdvertisementWrite[] = [];
    for (const entry of this.#entries()) {
      if (entry.expiresAt <= now) continue;
      const key = advertisementKey(entry.advertisement);
      const before = storedByKey.get(key);
      storedByKey.delete(key);
      put.push({
        ...entry,
        valueChanged: !before || !sameValues(before.advertisement, entry.advertisement),
      });
    }
    const remove = [...storedByKey.values()].map((entry) => entry.advertisement);
    // The last full sync's record goes with the entries, as one: a store that lost it (a Redis
    // restarted without its data) gets it back, and a crash meanwhile leaves one whole state.
    const record = this.#lastFullSync;
    await this.#store.write({ put, remove, ...(record ? { fullSync: record } : {}) });
  }

  #invalidate(): void {
    this.#snapshot = undefined;
  }

  #available(): AvailableSnapshot {
    const now = this.#clock.now();
    if (this.#snapshot && now < this.#snapshot.validUntil) return this.#snapshot;
    const byRegister = new Map<string, AvailableRegisterInfo>();
    let validUntil = Number.POSITIVE_INFINITY;
    const include = (entry: Entry, remote: boolean) => {
      const ad = entry.advertisement;
      if (!ad.isPublic) return;
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
    for (const [registerId, entry] of this.#local) {
      if (entry.expiresAt <= now) this.#local.delete(registerId);
      else include(entry, false);
    }
    for (const [peerId, peer] of this.#remote) {
      for (const [registerId, entry] of peer) {
        if (entry.expiresAt <= now) peer.delete(registerId);
        else include(entry, true);
      }
      if (peer.size === 0) this.#remote.delete(peerId);
    }
    const list = [...byRegister.values()].sort((a, b) =>
      a.registerId < b.registerId ? -1 : a.registerId > b.registerId ? 1 : 0
    );
    this.#snapshot = { list, json: JSON.stringify(list), validUntil };
    return this.#snapshot;
  }
}
