/**
 * The advertisement store's metrics: whether it takes writes, and how many
 * writes wait for its answer. Both are read at each export from the state
 * that keeps them, never counted apart: the readiness the registry keeps, and
 * the writes in flight a {@link PendingWrites} store wrapper keeps.
 *
 * @module
 */
import type { ServiceMetrics } from "../../shared/telemetry/mod.ts";
import type { AdvertisementStore, StoreBatch, WriteOutcome } from "./types.ts";

/** What the store's gauges read at each export. */
export interface StoreMetricsSource {
  /** Whether the store takes writes now: false while degraded (or not loaded yet at start). */
  healthy(): boolean;
  /** Writes sent to the store and not answered yet. */
  pendingWrites(): number;
}

/**
 * Defines `sorcha_peer_store_healthy` (1 ok, 0 degraded or starting) and
 * `sorcha_peer_store_pending_writes`, read from `source` at each export.
 */
export function observeStore(metrics: ServiceMetrics, source: StoreMetricsSource): void {
  metrics.gauge({
    name: "sorcha_peer_store_healthy",
    help:
      "1 while the advertisement store takes writes, 0 while it is degraded (serving from memory) or starting.",
    observe: () => source.healthy() ? 1 : 0,
  });
  metrics.gauge({
    name: "sorcha_peer_store_pending_writes",
    help: "Advertisement store writes sent and not answered yet.",
    observe: () => source.pendingWrites(),
  });
}

/** A store that counts its writes in flight; every call goes to the store it wraps. */
export class PendingWrites implements AdvertisementStore {
  readonly #store: AdvertisementStore;
  #pending = 0;
  readonly #answered = () => {
    this.#pending--;
  };

  /** Wraps `store`. */
  constructor(store: AdvertisementStore) {
    this.#store = store;
  }

  /** Writes sent and not answered yet. */
  get pending(): number {
    return this.#pending;
  }

  /** The wrapped store's kind. */
  get kind(): string {
    return this.#store.kind;
  }

  /** See {@link AdvertisementStore.write}; counted until answered. */
  write(batch: StoreBatch): Promise<WriteOutcome> {
    const sent = this.#store.write(batch);
    this.#pending++;
    sent.then(this.#answered, this.#answered);
    return sent;
  }

  /** See {@link AdvertisementStore.loadAll}. */
  loadAll(): ReturnType<AdvertisementStore["loadAll"]> {
    return this.#store.loadAll();
  }

  /** See {@link AdvertisementStore.loadFullSync}. */
  loadFullSync(): ReturnType<AdvertisementStore["loadFullSync"]> {
    return this.#store.loadFullSync();
  }

  /** See {@link AdvertisementStore.saveFullSync}. */
  saveFullSync(record: Parameters<AdvertisementStore["saveFullSync"]>[0]): Promise<void> {
    return this.#store.saveFullSync(record);
  }

  /** See {@link AdvertisementStore.onReconnect}. */
  onReconnect(listener: () => void): void {
    this.#store.onReconnect(listener);
  }

  /** See {@link AdvertisementStore.close}. */
  close(): Promise<void> {
    return this.#store.close();
  }
}
