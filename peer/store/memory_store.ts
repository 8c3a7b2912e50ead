/**
 * An in-memory advertisement store for unit tests: same semantics as the
 * real adapters, a settable clock, counters of value writes and refreshes,
 * and a switch that makes it unreachable.
 *
 * @module
 */
import { AppError } from "../../shared/errors.ts";
import { type Clock, systemClock } from "../../shared/clock.ts";
import {
  advertisementKey,
  type AdvertisementStore,
  type FullSyncRecord,
  type StoreBatch,
  type StoredAdvertisement,
  type WriteOutcome,
} from "./types.ts";

/** Options of {@link MemoryAdvertisementStore}. */
export interface MemoryStoreOptions {
  /** The clock deciding expiry (default: the system clock). */
  clock?: Clock;
}

/** In-memory {@link AdvertisementStore}, for tests. */
export class MemoryAdvertisementStore implements AdvertisementStore {
  /** Always `memory`. */
  readonly kind = "memory";
  /** Number of advertisement values written. */
  valueWrites = 0;
  /** Number of expiry-only refreshes. */
  refreshes = 0;
  /** Number of `write` calls that reached the store. */
  roundTrips = 0;
  readonly #entries = new Map<string, StoredAdvertisement>();
  readonly #clock: Clock;
  readonly #listeners: (() => void)[] = [];
  #fullSync: FullSyncRecord | undefined;
  #reachable = true;

  /** Creates an empty store. */
  constructor(options: MemoryStoreOptions = {}) {
    this.#clock = options.clock ?? systemClock;
  }

  /**
   * Makes the store unreachable (every call fails) or reachable again; on
   * return, reconnect listeners are told unless `announce` is false.
   */
  setReachable(reachable: boolean, options: { announce?: boolean } = {}): void {
    const returning = reachable && !this.#reachable;
    this.#reachable = reachable;
    if (returning && options.announce !== false) {
      for (const listener of this.#listeners) listener();
    }
  }

  /** The raw entries, by key, including expired ones not yet purged; for assertions. */
  get entries(): ReadonlyMap<string, StoredAdvertisement> {
    return this.#entries;
  }

  /** Deletes one entry by key, as an operator might by hand. */
  deleteKey(key: string): void {
    this.#entries.delete(key);
  }

  /** Drops every entry and the full-sync record, as a Redis restarted without its data. */
  clear(): void {
    this.#entries.clear();
    this.#fullSync = undefined;
  }

  /** Runs `fn` now, like a real store sending a command at once; failures come as rejections. */
  #run<T>(fn: () => T): Promise<T> {
    if (!this.#reachable) {
      return Promise.reject(new AppError("unavailable", "memory store is unreachable"));
    }
    try {
      return Promise.resolve(fn());
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #live(key: string): StoredAdvertisement | undefined {
    const entry = this.#entries.get(key);
    if (entry && entry.expiresAt <= this.#clock.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  loadAll(): Promise<StoredAdvertisement[]> {
    return this.#run(() => {
      const out: StoredAdvertisement[] = [];
      for (const key of [...this.#entries.keys()]) {
        const entry = this.#live(key);
        if (entry) {
          out.push({ advertisement: { ...entry.advertisement }, expiresAt: entry.expiresAt });
        }
      }
      return out;
    });
  }

  write(batch: StoreBatch): Promise<WriteOutcome> {
    return this.#run(() => this.#write(batch));
  }

  #write(batch: StoreBatch): WriteOutcome {
    this.roundTrips++;
    let restored = 0;
    const now = this.#clock.now();
    for (const item of batch.put) {
      const key = advertisementKey(item.advertisement);
      if (item.expiresAt <= now) {
        this.#entries.delete(key);
        continue;
      }
      const existing = this.#live(key);
      if (!item.valueChanged && existing) {
        existing.expiresAt = item.expiresAt;
        this.refreshes++;
        continue;
      }
      if (!item.valueChanged) restored++;
      this.valueWrites++;
      this.#entries.set(key, {
        // A copy (advertisements are flat), so later changes in memory do not reach the store.
        advertisement: { ...item.advertisement },
        expiresAt: item.expiresAt,
      });
    }
    for (const key of batch.remove) this.#entries.delete(advertisementKey(key));
    if (batch.fullSync) this.#fullSync = structuredClone(batch.fullSync);
    return { restored };
  }

  loadFullSync(): Promise<FullSyncRecord | undefined> {
    return this.#run(() => this.#fullSync && structuredClone(this.#fullSync));
  }

  saveFullSync(record: FullSyncRecord): Promise<void> {
    return this.#run(() => {
      this.#fullSync = structuredClone(record);
    });
  }

  onReconnect(listener: () => void): void {
    this.#listeners.push(listener);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
