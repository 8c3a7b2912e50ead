/**
 * Picking the system-register store from the configuration: MongoDB when a
 * URL is configured, otherwise the embedded SQLite store in the data
 * directory.
 *
 * The MongoDB adapter is loaded only when used: {@link openMongoSystemRegisterStore}
 * here imports `./mongo_store.ts` (and so the driver) on first call.
 *
 * @module
 */
import { join } from "node:path";
import { openChosenStore, type StoreLocation } from "../../shared/store_choice.ts";
import type { MongoSystemRegisterStore, MongoSystemRegisterStoreOptions } from "./mongo_store.ts";
import { openSqliteSystemRegisterStore } from "./sqlite_store.ts";
import type { SystemRegisterStore } from "./types.ts";

/** File name of the SQLite system register inside the data directory. */
export const SYSTEM_REGISTER_FILE_NAME = "system-register.db";

/** Options of {@link openSystemRegisterStore}: MongoDB's URL, or the SQLite store's directory (created if needed). */
export type OpenSystemRegisterStoreOptions = StoreLocation;

/**
 * Connects to MongoDB at `url` (see `openMongoSystemRegisterStore` in `./mongo_store.ts`),
 * loading the driver on first use.
 */
export async function openMongoSystemRegisterStore(
  url: string,
  options: MongoSystemRegisterStoreOptions = {},
): Promise<MongoSystemRegisterStore> {
  const mongo = await import("./mongo_store.ts");
  return await mongo.openMongoSystemRegisterStore(url, options);
}

/**
 * Opens the MongoDB store when `mongodbUrl` is set (connecting, and throwing `unavailable`
 * when no server answers), otherwise the SQLite store at `{dataDir}/system-register.db`.
 */
export async function openSystemRegisterStore(
  options: OpenSystemRegisterStoreOptions,
): Promise<SystemRegisterStore> {
  return await openChosenStore<SystemRegisterStore>(options, {
    mongo: (url) => openMongoSystemRegisterStore(url),
    sqlite: (dataDir) => openSqliteSystemRegisterStore(join(dataDir, SYSTEM_REGISTER_FILE_NAME)),
  });
}
