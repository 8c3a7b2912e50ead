/**
 * One MongoDB collection behind a service's store, shared by the register's
 * and the hub's MongoDB adapters: connecting (with a server-selection
 * timeout and the store's own indexes), running operations so that every
 * driver failure becomes an `unavailable` {@link AppError} without the URL's
 * credentials, and closing.
 *
 * @module
 */
import { type Collection, type Document, MongoClient, type ReadPreferenceMode } from "mongodb";
import { AppError, errorMessage } from "./errors.ts";
import { databaseFromUrl, redactSecrets, redactUrl, urlSecrets } from "./mongo_url.ts";

/** Options of {@link connectMongoCollection}. */
export interface MongoCollectionOptions<T extends Document> {
  /** The store's name in error messages: `Register store`, `System register store`. */
  store: string;
  /** The database when the URL's path names none. */
  database: string;
  /** The collection. */
  collection: string;
  /** How long to wait for a server, at open and for every operation, in ms. */
  timeoutMs: number;
  /** Where reads go (default: as the URL says). */
  readPreference?: ReadPreferenceMode;
  /** Creates the store's indexes once connected. */
  setup: (collection: Collection<T>) => Promise<unknown>;
}

/** A connected collection; see the module documentation. */
export class MongoConnection<T extends Document> {
  /** The client. */
  readonly client: MongoClient;
  /** The collection. */
  readonly collection: Collection<T>;
  readonly #store: string;
  readonly #secrets: readonly string[];
  #closed = false;

  /** Use {@link connectMongoCollection}. */
  constructor(
    client: MongoClient,
    init: { collection: Collection<T>; store: string; secrets: readonly string[] },
  ) {
    this.client = client;
    this.collection = init.collection;
    this.#store = init.store;
    this.#secrets = init.secrets;
  }

  /** Runs `work`, turning a closed store or a driver error into an `unavailable` error. */
  async run<R>(work: () => Promise<R>): Promise<R> {
    if (this.#closed) throw this.failure(new Error("the store is closed"));
    try {
      return await work();
    } catch (error) {
      throw this.failure(error);
    }
  }

  /**
   * `<store> (MongoDB) failed: <context>: <reason>` as an `unavailable`
   * error, credentials removed; an {@link AppError} is kept as it is.
   */
  failure(cause: unknown, context?: string): AppError {
    return mongoFailure(cause, { store: this.#store, secrets: this.#secrets, context });
  }

  /** Closes the client (once). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.client.close();
  }
}

/** See {@link MongoConnection.failure}. */
function mongoFailure(
  cause: unknown,
  options: { store: string; secrets: readonly string[]; context?: string | undefined },
): AppError {
  if (cause instanceof AppError) return cause;
  const reason = errorMessage(cause);
  const message = options.context ? `${options.context}: ${reason}` : reason;
  return new AppError(
    "unavailable",
    `${options.store} (MongoDB) failed: ${redactSecrets(message, options.secrets)}`,
    { cause },
  );
}

/**
 * Connects to MongoDB at `url` and sets up the collection; throws an
 * `unavailable` {@link AppError} (without the URL's credentials) when no
 * server answers within `timeoutMs`. The database is the URL's path when it
 * has one, otherwise `options.database`.
 */
export async function connectMongoCollection<T extends Document>(
  url: string,
  options: MongoCollectionOptions<T>,
): Promise<MongoConnection<T>> {
  const secrets = urlSecrets(url);
  let client: MongoClient;
  try {
    client = new MongoClient(url, { serverSelectionTimeoutMS: options.timeoutMs });
  } catch (error) {
    throw mongoFailure(error, { store: options.store, secrets, context: "invalid MongoDB URL" });
  }
  const collection = client.db(databaseFromUrl(url) ?? options.database).collection<T>(
    options.collection,
    options.readPreference ? { readPreference: options.readPreference } : {},
  );
  const connection = new MongoConnection(client, { collection, store: options.store, secrets });
  try {
    await client.connect();
    await options.setup(collection);
  } catch (error) {
    await client.close().catch(() => {});
    throw connection.failure(
      error,
      `cannot open MongoDB at ${redactUrl(url)} (server selection timeout ${options.timeoutMs} ms)`,
    );
  }
  return connection;
}
