/**
 * The peer's advertisements, local and remote: served from memory, written
 * through to the store, loaded from it at start, and expired by lease. A
 * facade over one file per concept:
 *
 * - `lease_table.ts`: the advertisements in memory and their leases;
 * - `local_set.ts`: this node's own, bulk requests and full syncs;
 * - `sync_parts.ts`: full syncs sent in parts, kept aside until the last;
 * - `remote_sets.ts`: other peers' sets, from gossip;
 * - `read_views.ts`: `available`, what is offered to other peers, counts,
 *   local leases;
 * - `persistence.ts`: the store: load, write-through, recovery.
 *
 * @module
 */
import type { Logger } from "@logtape/logtape";
import { type Clock, systemClock } from "../../shared/clock.ts";
import { log } from "../../shared/logging.ts";
import { createSystemScheduler, type Scheduler } from "../../shared/schedule.ts";
import { inSpan, type ServiceMetrics } from "../../shared/telemetry/mod.ts";
import {
  type AdvertisementStore,
  type FullSyncRecord,
  observeStore,
  PendingWrites,
} from "../store/mod.ts";
import { LeaseTable } from "./lease_table.ts";
import {
  type AdvertiseOptions,
  type AdvertiseResult,
  type BulkResult,
  type LocalItem,
  LocalSet,
  type WithdrawResult,
} from "./local_set.ts";
import { advertisementMetrics, type AdvertisementRecorder } from "./metrics.ts";
import { Persistence, type StoreStatus } from "./persistence.ts";
import {
  type AvailableRegister,
  type LiveCounts,
  type LocalLease,
  type ReadStamp,
  ReadViews,
} from "./read_views.ts";
import {
  type RemoteItem,
  type RemoteLeaseOptions,
  type RemoteReplaceResult,
  RemoteSets,
} from "./remote_sets.ts";
import { DEFAULT_PART_TIMEOUT_MS, type PendingSyncView, SyncParts } from "./sync_parts.ts";

export type {
  AdvertiseOptions,
  AdvertiseResult,
  AvailableRegister,
  BulkResult,
  LiveCounts,
  LocalItem,
  LocalLease,
  PendingSyncView,
  ReadStamp,
  RemoteItem,
  RemoteLeaseOptions,
  RemoteReplaceResult,
  StoreStatus,
  WithdrawResult,
};

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
  /** Waits for store retries and the expiry of unfinished full syncs (default: the system scheduler). */
  scheduler?: Scheduler;
  /** How long the parts of an unfinished full sync are kept after its latest part, in ms (default 120 000). */
  partTimeoutMs?: number;
  /** Where the advertisement and store metrics are defined and recorded (default: none). */
  metrics?: ServiceMetrics;
}

/** A bulk advertisement: a list, the whole local set (`fullSync`), or one part of a full sync. */
export interface BulkRequest {
  /** The advertisements. */
  advertisements: LocalItem[];
  /** Whether the list is the complete local set (not looked at on a part). */
  fullSync?: boolean | undefined;
  /** Makes the request one part of the full sync of that id. */
  syncId?: string | undefined;
  /** With `syncId`: the part's number, from 0. */
  part?: number | undefined;
  /** With `syncId`: whether it is the last part. */
  lastPart?: boolean | undefined;
}

/** Options of {@link AdvertisementRegistry.bulkAdvertise}. */
export interface BulkOptions {
  /**
   * Digest of the request's body. When it is the last applied request's, and nothing that
   * request set has changed since, its leases are renewed and the request is not read.
   */
  digest?: string | undefined;
}

/** The last full sync, the live counts and the store's state (`GET /api/registers/sync-state`). */
export interface SyncStateView extends LiveCounts {
  /** The last full sync's record, `null` before the first. */
  lastFullSync: FullSyncRecord | null;
  /** The TTL promised, in seconds. */
  ttlSeconds: number;
  /** TTL plus grace, in seconds. */
  leaseSeconds: number;
  /** The store's kind and state, and its writes in flight. */
  store: StoreStatus & { pendingWrites: number };
  /** Full syncs in parts whose last part has not come. */
  pendingSyncs: PendingSyncView[];
}

/** The peer's advertisements, local and remote; see the module documentation. */
export class AdvertisementRegistry {
  readonly #table: LeaseTable;
  readonly #clock: Clock;
  readonly #counted: PendingWrites;
  readonly #persistence: Persistence;
  readonly #local: LocalSet;
  readonly #parts: SyncParts;
  readonly #remote: RemoteSets;
  readonly #views: ReadViews;
  readonly #logger: Logger;
  readonly #recorder: AdvertisementRecorder | undefined;

  /** Creates the registry over a store; call {@link start} to load it. */
  constructor(store: AdvertisementStore, options: AdvertisementRegistryOptions) {
    const clock = options.clock ?? systemClock;
    this.#clock = clock;
    const logger = options.logger ?? log("peer", "advertisements");
    const scheduler = options.scheduler ?? createSystemScheduler({ clock });
    const table = new LeaseTable({
      ...options,
      onPeerExpired: (peerId, count) =>
        logger.info(
          "The {count} advertisements of peer {peerId} expired: no refresh came within the lease",
          { peerId, count },
        ),
    });
    // Counts the writes in flight, for the store's state and its metric.
    const counted = new PendingWrites(store);
    store = counted;
    this.#counted = counted;
    const persistence = new Persistence(store, {
      table,
      clock,
      scheduler,
      logger,
      initialRetryDelayMs: options.initialRetryDelayMs,
      maxRetryDelayMs: options.maxRetryDelayMs,
    });
    this.#table = table;
    this.#persistence = persistence;
    this.#local = new LocalSet(table, { persistence, clock });
    this.#parts = new SyncParts({
      clock,
      scheduler,
      timeoutMs: options.partTimeoutMs ?? DEFAULT_PART_TIMEOUT_MS,
      logger,
    });
    this.#remote = new RemoteSets(table, { persistence, clock });
    this.#views = new ReadViews(table, { clock });
    this.#logger = logger;
    if (options.metrics) {
      const views = this.#views;
      this.#recorder = advertisementMetrics(options.metrics, {
        counts: () => views.counts(),
        availableCount: () => views.availableCount(),
      });
      observeStore(options.metrics, {
        healthy: () => persistence.status().state === "ok",
        pendingWrites: () => counted.pending,
      });
    }
  }

  /** Loads every advertisement from the store (once). With the store unreachable, starts empty and degraded. */
  start(): Promise<void> {
    return this.#persistence.start();
  }

  /** Whether {@link start} has finished. */
  get started(): boolean {
    return this.#persistence.started;
  }

  /** Whether the store's contents are in memory (false while it was unreachable since start). */
  get loaded(): boolean {
    return this.#persistence.loaded;
  }

  /**
   * Applies a bulk advertisement (`local_set.ts`); with `fullSync` the list becomes the complete
   * local set. A part of a full sync (`syncId`) is kept aside, changing nothing, until the last
   * part, which applies the union of the parts as one full sync (`sync_parts.ts`). `request` may
   * be a function that reads it: with a `digest` matching the last request applied, and nothing
   * changed since, it is not called and only leases are renewed. Runs in a `peer.advertise.bulk`
   * span (attributes `sorcha.advertise.count`, `.full_sync`, `.sync_id` and `.part` for a part,
   * and the counts: `.added`, `.updated`, `.removed`, `.unchanged`).
   */
  bulkAdvertise(
    request: BulkRequest | (() => BulkRequest),
    options: BulkOptions = {},
  ): Promise<BulkResult> {
    return inSpan("peer.advertise.bulk", async (span) => {
      const began = performance.now();
      const { result, fullSync, syncId, part } = await this.#bulk(request, options);
      span.setAttributes({
        "sorcha.advertise.count": result.processed,
        "sorcha.advertise.full_sync": fullSync,
        ...(syncId === undefined
          ? {}
          : { "sorcha.advertise.sync_id": syncId, "sorcha.advertise.part": part ?? 0 }),
        "sorcha.advertise.added": result.added,
        "sorcha.advertise.updated": result.updated,
        "sorcha.advertise.removed": result.removed,
        "sorcha.advertise.unchanged": result.unchanged,
      });
      this.#recorder?.bulk(fullSync ? "full_sync" : "bulk", (performance.now() - began) / 1000);
      if (fullSync && result.added + result.updated + result.removed > 0) {
        this.#logger.info(
          "A full sync repaired the local set: {added} added, {updated} updated, {removed} removed of {processed} sent",
          { ...result, ...(syncId === undefined ? {} : { syncId }) },
        );
      }
      return result;
    });
  }

  /** {@link bulkAdvertise} without its telemetry; also says what kind of request it was. */
  async #bulk(
    request: BulkRequest | (() => BulkRequest),
    options: BulkOptions,
  ): Promise<{ result: BulkResult; fullSync: boolean; syncId?: string; part?: number }> {
    await this.start();
    if (options.digest !== undefined) {
      const renewed = await this.#local.renewIdentical(options.digest);
      if (renewed) return { result: renewed, fullSync: this.#local.lastBulkWasFullSync };
    }
    const bulk = typeof request === "function" ? request() : request;
    if (bulk.syncId === undefined) {
      const fullSync = bulk.fullSync === true;
      const result = await this.#local.bulk(
        { advertisements: bulk.advertisements, fullSync },
        { digest: options.digest },
      );
      return { result, fullSync };
    }
    const sync = { fullSync: true, syncId: bulk.syncId, part: bulk.part! };
    const whole = this.#parts.take({ ...bulk, ...sync });
    if (!whole) {
      const none = { added: 0, updated: 0, removed: 0, unchanged: 0 };
      const processed = bulk.advertisements.length;
      return { result: { processed, ...none, persisted: this.#persistence.writable }, ...sync };
    }
    // Parts carry a new id each time: no body of theirs is ever sent again as it is.
    const result = await this.#local.bulk(
      { advertisements: whole.items, fullSync: true },
      { describe: whole.describe },
    );
    return { result, ...sync };
  }

  /** Advertises one local register; versions not given keep their known values. */
  async advertise(id: string, options: AdvertiseOptions): Promise<AdvertiseResult> {
    await this.start();
    const result = await this.#local.advertise(id, options);
    this.#recorder?.request("single");
    return result;
  }

  /** Stops advertising one local register. */
  async withdraw(id: string): Promise<WithdrawResult> {
    await this.start();
    const result = await this.#local.withdraw(id);
    this.#recorder?.request("withdraw");
    return result;
  }

  /**
   * Replaces everything `peerId` advertises with `items`, its complete set as received in a
   * gossip exchange (`remote_sets.ts`).
   */
  async replaceRemote(
    peerId: string,
    items: readonly RemoteItem[],
    options: RemoteLeaseOptions = {},
  ): Promise<RemoteReplaceResult> {
    await this.start();
    return await this.#remote.replace(peerId, items, options);
  }

  /** Renews the lease of everything `peerId` advertises; returns how many were renewed. */
  async renewRemote(peerId: string, options: RemoteLeaseOptions = {}): Promise<number> {
    await this.start();
    return await this.#remote.renew(peerId, options);
  }

  /** Removes everything `peerId` advertises here. Returns how many live ones there were. */
  async forgetRemote(peerId: string): Promise<number> {
    await this.start();
    return await this.#remote.forget(peerId);
  }

  /** What `peerId` advertises here, live, sorted by id. */
  remoteItems(peerId: string): RemoteItem[] {
    return this.#remote.items(peerId);
  }

  /**
   * This node's live local advertisements (public and private) with their
   * leases, sorted by id: when each was last advertised or renewed, and when
   * its lease ends without a renewal.
   */
  localLeases(): LocalLease[] {
    return this.#views.localLeases();
  }

  /** This node's public local advertisements, sorted by id; the same array while unchanged. */
  publicLocal(): RemoteItem[] {
    return this.#views.publicLocal();
  }

  /** Public registers, local and remote, one entry per register, sorted by id. */
  available(): AvailableRegister[] {
    return this.#views.available();
  }

  /** {@link available} as JSON text, cached until something changes or a lease ends. */
  availableJson(): string {
    return this.#views.availableJson();
  }

  /** What the reads of the advertisements depend on (see {@link ReadStamp}). */
  readStamp(): ReadStamp {
    return this.#views.stamp();
  }

  /** The last full sync and the counts and store state behind it. */
  syncState(): SyncStateView {
    return {
      lastFullSync: this.#persistence.lastFullSync ?? null,
      ...this.#views.counts(),
      ttlSeconds: this.#table.ttlMs / 1000,
      leaseSeconds: this.#table.leaseMs / 1000,
      store: { ...this.#persistence.status(), pendingWrites: this.#counted.pending },
      pendingSyncs: this.#parts.pending(),
    };
  }

  /** The store's state as `/readyz` shows it: `ok`, `degraded` (serving from memory) or `starting`. */
  readiness(): StoreStatus {
    return this.#persistence.status();
  }

  /** Runs store recovery now; for tests and operators' tools. */
  recoverStore(): Promise<void> {
    return this.#persistence.recover();
  }

  /** Resolves when no store recovery or lease renewal is running; for tests. */
  storeSettled(): Promise<void> {
    return this.#persistence.settled();
  }

  /** Stops store retries and the parts' expiry. The store itself is closed by its owner. */
  async close(): Promise<void> {
    this.#parts.close();
    await this.#persistence.close();
  }
}
