/**
 * Advertisement persistence: the store interface, its three adapters (Redis,
 * embedded SQLite, in-memory) and {@link openAdvertisementStore}, which picks
 * one from the configuration.
 *
 * @module
 */
import type { Logger } from "@logtape/logtape";
import type { Clock } from "../../shared/clock.ts";
import { openRedisStore } from "./redis_store.ts";
import { openSqliteStore } from "./sqlite_store.ts";
import type { AdvertisementStore } from "./types.ts";

export * from "./types.ts";
export { MemoryAdvertisementStore, type MemoryStoreOptions } from "./memory_store.ts";
export {
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_MAX_RECONNECT_DELAY_MS,
  openRedisStore,
  RedisAdvertisementStore,
  type RedisStoreOptions,
  SCRIPT_CHUNK_SIZE,
} from "./redis_store.ts";
export { ADVERTISEMENT_PATTERN, SCAN_COUNT } from "./redis_load.ts";
export {
  openSqliteStore,
  PURGE_INTERVAL_MS,
  SqliteAdvertisementStore,
  type SqliteStoreOptions,
} from "./sqlite_store.ts";

/** File name of the SQLite store inside the data directory. */
export const SQLITE_FILE_NAME = "peer-advertisements.db";

/** Options of {@link openAdvertisementStore}. */
export interface OpenAdvertisementStoreOptions {
  /** Redis to use; without it, the SQLite store in {@link OpenAdvertisementStoreOptions.dataDir}. */
  redisUrl?: string;
  /** Directory of the SQLite store (created if needed). */
  dataDir: string;
  /** The clock deciding expiry in the SQLite store (Redis uses its own TTLs). */
  clock?: Clock;
  /** Where the Redis store logs connection events. */
  logger?: Logger;
}

/**
 * Opens the Redis store when `redisUrl` is set (without waiting for Redis, which may be down),
 * otherwise the SQLite store at `{dataDir}/peer-advertisements.db`.
 */
export async function openAdvertisementStore(
  options: OpenAdvertisementStoreOptions,
): Promise<AdvertisementStore> {
  if (options.redisUrl) {
    return openRedisStore(options.redisUrl, options.logger ? { logger: options.logger } : {});
  }
  await Deno.mkdir(options.dataDir, { recursive: true });
  return openSqliteStore(
    `${options.dataDir}/${SQLITE_FILE_NAME}`,
    options.clock ? { clock: options.clock } : {},
  );
}
export type { RedisConnection } from "./redis_connection.ts";
export { openRedisConnection, queueScript } from "./redis_connection.ts";
export { observeStore, PendingWrites, type StoreMetricsSource } from "./metrics.ts";
