/**
 * Register persistence: the store interface, its two adapters (embedded
 * SQLite, MongoDB) and {@link openRegisterStore}, which picks one from the
 * configuration.
 *
 * The MongoDB adapter is loaded only when used: this module exports its types
 * and an {@link openMongoRegisterStore} that imports `./mongo_store.ts` (and
 * so the driver) on first call.
 *
 * @module
 */
import { join } from "node:path";
import { openChosenStore, type StoreLocation } from "../../shared/store_choice.ts";
import type { MongoRegisterStore, MongoStoreOptions } from "./mongo_store.ts";
import { openSqliteRegisterStore } from "./sqlite_store.ts";
import type { RegisterStore } from "./types.ts";

export * from "./types.ts";
export {
  openSqliteRegisterStore,
  SQLITE_BUSY_TIMEOUT_MS,
  SqliteRegisterStore,
} from "./sqlite_store.ts";
export type { MongoRegisterStore, MongoStoreOptions, RegisterDocument } from "./mongo_store.ts";

/** File name of the SQLite store inside the data directory. */
export const SQLITE_FILE_NAME = "registers.db";

/** Options of {@link openRegisterStore}: MongoDB's URL, or the SQLite store's directory (created if needed). */
export type OpenRegisterStoreOptions = StoreLocation;

/**
 * Connects to MongoDB at `url` (see `openMongoRegisterStore` in `./mongo_store.ts`), loading
 * the driver on first use.
 */
export async function openMongoRegisterStore(
  url: string,
  options: MongoStoreOptions = {},
): Promise<MongoRegisterStore> {
  const mongo = await import("./mongo_store.ts");
  return await mongo.openMongoRegisterStore(url, options);
}

/**
 * Opens the MongoDB store when `mongodbUrl` is set (connecting, and throwing `unavailable`
 * when no server answers), otherwise the SQLite store at `{dataDir}/registers.db`.
 */
export async function openRegisterStore(options: OpenRegisterStoreOptions): Promise<RegisterStore> {
  return await openChosenStore<RegisterStore>(options, {
    mongo: (url) => openMongoRegisterStore(url),
    async sqlite(dataDir) {
      await Deno.mkdir(dataDir, { recursive: true });
      return openSqliteRegisterStore(join(dataDir, SQLITE_FILE_NAME));
    },
  });
}
