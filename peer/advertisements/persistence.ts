/**
 * The advertisements' persistence, whole: loaded from the store at start,
 * written through to it, and brought back in line with memory after an
 * outage (the store recovery cycle).
 *
 * Write-through: a value change or deletion is written before its request is
 * answered; lease renewals, and other peers' sets (gossip brings them again),
 * are sent at once, in order with later writes, but not awaited. A full sync's
 * changes and its record are one batch, which the store applies atomically.
 *
 * Outage: while the store fails (`degraded`), no request waits on it: changes
 * live in memory only. Recovery runs each time the store reports it is
 * reachable again (even when nothing failed meanwhile: it may have come back
 * without its data) and, as a fallback, after a retry delay
 * (`shared/backoff.ts`: 0.5 s doubling to 30 s, with jitter) waited through the
 * injected scheduler. A recovery pass first merges the store into memory when
 * it was never loaded (memory wins for what changed meanwhile), then writes
 * memory's live entries and the last full sync's record over the store's, as
 * one; passes repeat until one completes with no change made meanwhile, so
 * nothing changed during recovery is left unwritten.
 *
 * @module
 */
import type { Logger } from "@logtape/logtape";
import { type Backoff, createBackoff } from "../../shared/backoff.ts";
import type { Clock } from "../../shared/clock.ts";
import { errorMessage } from "../../shared/errors.ts";
import type { Scheduler } from "../../shared/schedule.ts";
import {
  advertisementKey,
  type AdvertisementStore,
  type AdvertisementWrite,
  type FullSyncRecord,
  sameValues,
  type StoreBatch,
} from "../store/mod.ts";
import type { LeaseTable } from "./lease_table.ts";

/** The store's state: `starting` before the first load, then `ok` or `degraded`. */
export type StoreState = "starting" | "ok" | "degraded";

/** The store as `/readyz` and `sync-state` show it. */
export type StoreStatus = {
  /** `redis`, `sqlite` or `memory`. */
  kind: string;
  /** Whether it takes writes. */
  state: StoreState;
  /** Whether its contents are in memory (false while it was unreachable since start). */
  loaded: boolean;
  /** The last failure, while degraded. */
  lastError?: string;
};

/** Options of {@link Persistence}. */
export interface PersistenceOptions {
  /** The advertisements in memory: filled by the load, written back by recovery. */
  table: LeaseTable;
  /** Decides what has expired. */
  clock: Clock;
  /** Waits between recovery attempts. */
  scheduler: Scheduler;
  /** Where state changes are logged. */
  logger: Logger;
  /** First retry delay in ms (default 500). */
  initialRetryDelayMs?: number | undefined;
  /** Longest retry delay in ms (default 30 000). */
  maxRetryDelayMs?: number | undefined;
}

/** Options of {@link Persistence.write}. */
export interface WriteOptions {
  /** Sent at once but not awaited (the answer is `true` unless the store is degraded). */
  background?: boolean;
  /** The batch replaces this peer's whole set: its entries stored before the load are stale. */
  replacesPeerSet?: string;
}

/** Loads, writes through and recovers the store; see the module documentation. */
export class Persistence {
  readonly #store: AdvertisementStore;
  readonly #options: PersistenceOptions;
  readonly #table: LeaseTable;
  #state: StoreState = "starting";
  #lastError: string | undefined;
  #starting: Promise<void> | undefined;
  #started = false;
  #loaded = false;
  #lastFullSync: FullSyncRecord | undefined;
  /** Keys changed in memory before the store's contents were ever loaded: memory wins for them. */
  readonly #changedBeforeLoad = new Set<string>();
  /** A full sync arrived before the store's contents were loaded: stored local entries are stale. */
  #localSetKnownBeforeLoad = false;
  /** Peers whose whole set arrived before the store's contents were loaded: their stored entries are stale. */
  readonly #remoteSetsKnownBeforeLoad = new Set<string>();
  /** Writes sent and not awaited by their request. */
  readonly #background = new Set<Promise<boolean>>();
  /** Moves on every change, so that a recovery pass knows whether another is needed. */
  #generation = 0;
  #recovering: Promise<void> | undefined;
  /** Ends the wait for the next retry. */
  #retry: AbortController | undefined;
  #delay: Backoff | undefined;
  #closed = false;

  /** Persistence over a store; {@link start} loads it. */
  constructor(store: AdvertisementStore, options: PersistenceOptions) {
    this.#store = store;
    this.#options = options;
    this.#table = options.table;
    // Also when no write failed meanwhile: a Redis that comes back may have lost its data
    // (restarted without saving it), and the recovery writes memory's state back.
    store.onReconnect(() => {
      if (this.#state !== "starting") void this.recover();
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

  /** Whether the store's contents are in memory. */
  get loaded(): boolean {
    return this.#loaded;
  }

  /** Whether writes go to the store now (false while degraded or recovering). */
  get writable(): boolean {
    return this.#state === "ok";
  }

  /** The last full sync's record, if any. */
  get lastFullSync(): FullSyncRecord | undefined {
    return this.#lastFullSync;
  }

  /** The store's kind and state. */
  status(): StoreStatus {
    return {
      kind: this.#store.kind,
      state: this.#state,
      loaded: this.#loaded,
      ...(this.#lastError ? { lastError: this.#lastError } : {}),
    };
  }

  /**
   * Writes a batch through to the store: `true` when the store took it (or, sent in the
   * background, when it is not degraded); while it is degraded, memory alone takes the change.
   */
  async write(batch: StoreBatch, options: WriteOptions = {}): Promise<boolean> {
    if (options.replacesPeerSet !== undefined && !this.#loaded) {
      this.#remoteSetsKnownBeforeLoad.add(options.replacesPeerSet);
    }
    if (batch.put.length === 0 && batch.remove.length === 0 && !batch.fullSync) {
      return this.writable;
    }
    this.#generation++;
    if (!this.#loaded) {
      for (const item of batch.put) {
        this.#changedBeforeLoad.add(advertisementKey(item.advertisement));
      }
      for (const key of batch.remove) this.#changedBeforeLoad.add(advertisementKey(key));
    }
    if (!this.writable) return false;
    const failed = (error: unknown) => {
      this.#failed(error, "writing advertisements");
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
      // A failure marks the store degraded, and recovery writes what memory holds.
      this.#background.add(writing);
      void writing.finally(() => this.#background.delete(writing));
      return true;
    }
    return await writing;
  }

  /**
   * Writes a full sync's changes and its record as one (the store applies them atomically),
   * and keeps the record: `persisted` when the store took them, `memory-only` (saved by the
   * recovery) when it did not. The full sync makes the stored local set stale if it was not
   * loaded yet.
   */
  async writeFullSync(
    batch: StoreBatch,
    sync: Pick<FullSyncRecord, "at" | "counts">,
  ): Promise<boolean> {
    if (!this.#loaded) this.#localSetKnownBeforeLoad = true;
    const record: FullSyncRecord = { ...sync, outcome: "persisted" };
    this.#lastFullSync = record;
    const persisted = await this.write({ ...batch, fullSync: record });
    // Not taken (the store is degraded): kept as memory-only, which the recovery saves.
    if (!persisted && this.#lastFullSync === record) {
      this.#lastFullSync = {
        ...sync,
        outcome: "memory-only",
        ...(this.#lastError ? { storeError: this.#lastError } : {}),
      };
      this.#generation++;
    }
    return persisted;
  }

  /** Runs recovery now (at most one at a time); resolves when it has finished or failed. */
  recover(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#recovering ??= this.#recoverLoop().finally(() => {
      this.#recovering = undefined;
    });
    return this.#recovering;
  }

  /** Resolves when no recovery or background write is running (at once when none is). */
  async settled(): Promise<void> {
    await Promise.all(this.#background);
    await this.#recovering;
  }

  /** Stops retrying and waits for the load, background writes and a recovery in progress. */
  async close(): Promise<void> {
    await this.#starting;
    await Promise.all(this.#background);
    this.#closed = true;
    this.#stopRetry();
    await this.#recovering;
  }

  async #load(): Promise<void> {
    const began = performance.now();
    try {
      const [stored, fullSync] = await Promise.all([
        this.#store.loadAll(),
        this.#store.loadFullSync(),
      ]);
      const now = this.#options.clock.now();
      let local = 0;
      let remote = 0;
      for (const entry of stored) {
        if (entry.expiresAt <= now) continue;
        this.#table.put(entry);
        if (entry.advertisement.peerId === undefined) local++;
        else remote++;
      }
      this.#lastFullSync = fullSync;
      this.#loaded = true;
      this.#succeeded();
      this.#options.logger.info(
        "Loaded {local} local and {remote} remote advertisements from the {kind} store in {ms} ms",
        { local, remote, kind: this.#store.kind, ms: Math.round(performance.now() - began) },
      );
    } catch (error) {
      this.#failed(error, "loading advertisements at start");
    } finally {
      this.#started = true;
    }
  }

  async #recoverLoop(): Promise<void> {
    this.#stopRetry();
    try {
      let generation: number;
      do {
        generation = this.#generation;
        await this.#recoverOnce();
      } while (generation !== this.#generation && !this.#closed);
      this.#succeeded();
    } catch (error) {
      this.#failed(error, "recovery");
    }
  }

  /** Brings the store up to date with memory (and memory with the store, if it was never loaded). */
  async #recoverOnce(): Promise<void> {
    const stored = await this.#store.loadAll();
    const now = this.#options.clock.now();
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
          this.#table.has(entry.advertisement)
        ) continue;
        this.#table.put(entry);
        adopted++;
      }
      if (!this.#lastFullSync) this.#lastFullSync = fullSync;
      this.#loaded = true;
      this.#changedBeforeLoad.clear();
      this.#remoteSetsKnownBeforeLoad.clear();
      this.#options.logger.info(
        "Merged {adopted} advertisements from the {kind} store into memory",
        {
          adopted,
          kind: this.#store.kind,
        },
      );
    }
    const storedByKey = new Map(
      stored.map((entry) => [advertisementKey(entry.advertisement), entry]),
    );
    const put: AdvertisementWrite[] = [];
    for (const entry of this.#table.entries()) {
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

  /** Marks the store as working (after a load or a recovery). */
  #succeeded(): void {
    if (this.#state === "ok") return;
    if (this.#state === "degraded") {
      this.#options.logger.info("Advertisement store {kind} is back and up to date", {
        kind: this.#store.kind,
      });
    }
    this.#state = "ok";
    this.#lastError = undefined;
    this.#delay = undefined;
  }

  /** Marks the store as failing: memory keeps serving and a retry is scheduled. */
  #failed(error: unknown, during: string): void {
    this.#lastError = `${during}: ${errorMessage(error)}`;
    if (this.#state !== "degraded") {
      this.#options.logger.warn(
        "Advertisement store {kind} is unreachable ({error}); serving from memory until it returns",
        { kind: this.#store.kind, error: this.#lastError },
      );
    }
    this.#state = "degraded";
    this.#scheduleRetry();
  }

  /** Runs recovery after the next retry delay, unless one is waited for already. */
  #scheduleRetry(): void {
    if (this.#closed || this.#retry !== undefined) return;
    this.#delay = this.#delay?.next() ?? createBackoff({
      initialMs: this.#options.initialRetryDelayMs || 500,
      maxMs: this.#options.maxRetryDelayMs || 30_000,
    });
    const retry = new AbortController();
    this.#retry = retry;
    void this.#options.scheduler.sleep(this.#delay.delayMs, retry.signal).then(() => {
      if (retry.signal.aborted) return;
      this.#retry = undefined;
      void this.recover();
    });
  }

  #stopRetry(): void {
    this.#retry?.abort();
    this.#retry = undefined;
  }
}
