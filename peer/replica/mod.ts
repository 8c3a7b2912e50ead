/**
 * The peer's replica of the hub's system register: the store interface, its
 * three adapters (Redis, embedded SQLite, in-memory) and
 * {@link openReplicaStore}, which picks one from the configuration.
 *
 * @module
 */
import type { Logger } from "@logtape/logtape";
import { openRedisReplicaStore } from "./redis_store.ts";
import { openSqliteReplicaStore } from "./sqlite_store.ts";
import type { ReplicaStore } from "./types.ts";

export * from "./types.ts";
export { MemoryReplicaStore } from "./memory_store.ts";
export {
  openRedisReplicaStore,
  RedisReplicaStore,
  type RedisReplicaStoreOptions,
} from "./redis_store.ts";
export { REPLICA_KEYS, type ReplicaEntryKeys, STAGING_KEYS, WRITE_CHUNK } from "./redis_layout.ts";
export { IN_FLIGHT_BYTES } from "./redis_replacement.ts";
export { IN_FLIGHT_BYTES as SQLITE_IN_FLIGHT_BYTES } from "./sqlite_replacement.ts";
export { BATCH_BYTES as SQLITE_BATCH_BYTES } from "./sqlite_row_batch.ts";
export {
  openSqliteReplicaStore,
  SqliteReplicaStore,
  type SqliteReplicaStoreOptions,
} from "./sqlite_store.ts";
export { type ReplacementState } from "./replacement.ts";

/** File name of the SQLite replica inside the data directory. */
export const REPLICA_SQLITE_FILE_NAME = "system-register-replica.db";

/** Options of {@link openReplicaStore}. */
export interface OpenReplicaStoreOptions {
  /** Redis to use; without it, the SQLite replica in {@link OpenReplicaStoreOptions.dataDir}. */
  redisUrl?: string | undefined;
  /** Directory of the SQLite replica (created if needed). */
  dataDir: string;
  /** Where the store logs (Redis connection events, SQLite clean-up problems). */
  logger?: Logger | undefined;
  /**
   * This process writes the replica (the hub link): the SQLite store starts its writer worker at
   * once (see `SqliteReplicaStoreOptions.startWriter`).
   */
  writer?: boolean;
}

/**
 * Opens the Redis replica store when `redisUrl` is set (without waiting for Redis, which may be
 * down), otherwise the SQLite one at `{dataDir}/system-register-replica.db`
 * ({@link REPLICA_SQLITE_FILE_NAME}).
 */
export function openReplicaStore(options: OpenReplicaStoreOptions): ReplicaStore {
  const logged = options.logger ? { logger: options.logger } : {};
  if (options.redisUrl) return openRedisReplicaStore(options.redisUrl, logged);
  return openSqliteReplicaStore(`${options.dataDir}/${REPLICA_SQLITE_FILE_NAME}`, {
    ...logged,
    startWriter: options.writer === true,
  });
}
