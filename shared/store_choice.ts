/**
 * Which store a service keeps its data in: MongoDB when a URL is configured
 * (`MONGODB_URL`), otherwise the embedded SQLite store in the data directory
 * (`DATA_DIR`). The register service and the hub both choose here, each
 * with its own adapters.
 *
 * @module
 */

/** Where a service's store is: MongoDB when {@link StoreLocation.mongodbUrl} is set, else SQLite. */
export interface StoreLocation {
  /** MongoDB to use; without it, the SQLite store in {@link StoreLocation.dataDir}. */
  mongodbUrl?: string | undefined;
  /** Directory of the SQLite store. */
  dataDir: string;
}

/** How a service opens each kind of its store. */
export interface StoreOpeners<S> {
  /** Connects to MongoDB at `url`. */
  mongo(url: string): Promise<S>;
  /** Opens the SQLite store in `dataDir`. */
  sqlite(dataDir: string): S | Promise<S>;
}

/**
 * Opens the MongoDB store when `location.mongodbUrl` is set (an empty URL
 * counts as unset), otherwise the SQLite store in `location.dataDir`.
 */
export async function openChosenStore<S>(
  location: StoreLocation,
  openers: StoreOpeners<S>,
): Promise<S> {
  if (location.mongodbUrl) return await openers.mongo(location.mongodbUrl);
  return await openers.sqlite(location.dataDir);
}
