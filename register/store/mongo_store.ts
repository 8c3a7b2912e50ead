/**
 * The MongoDB register store (official driver), used when `MONGODB_URL` is
 * set. One document per register, `_id` being the register id, in the
 * `registers` collection; an index `{advertise: 1, _id: 1}` (`advertise_id`)
 * serves {@link MongoRegisterStore.listAdvertised} and the `advertise` filter of
 * {@link MongoRegisterStore.list}.
 *
 * Error messages never carry the URL's user name or password.
 *
 * @module
 */
import { type Collection, MongoClient, MongoServerError } from "mongodb";
import { AppError } from "../../shared/errors.ts";
import { databaseFromUrl, redactSecrets, redactUrl, urlSecrets } from "../../shared/mongo_url.ts";
import { alreadyExists, applyChanges, definedChanges } from "./changes.ts";
import type {
  AdvertisedRegister,
  ListOptions,
  Register,
  RegisterChanges,
  RegisterStore,
} from "./types.ts";

export { databaseFromUrl, redactUrl };

/** Database used when neither the URL nor the options name one. */
export const DEFAULT_MONGO_DATABASE = "sorcha";
/** Collection used when the options name none. */
export const DEFAULT_MONGO_COLLECTION = "registers";
/** How long opening waits for a server, in milliseconds, unless the options say otherwise. */
export const DEFAULT_SERVER_SELECTION_TIMEOUT_MS = 5_000;
/** Name of the index serving `listAdvertised`. */
export const ADVERTISE_INDEX_NAME = "advertise_id";

/** MongoDB's error code of a duplicate key. */
const DUPLICATE_KEY = 11000;

/** Options of {@link openMongoRegisterStore}. */
export interface MongoStoreOptions {
  /** Database, when the URL names none (default {@link DEFAULT_MONGO_DATABASE}). */
  database?: string;
  /** Collection (default {@link DEFAULT_MONGO_COLLECTION}). */
  collection?: string;
  /**
   * How long to wait for a server, at open and for every operation, in milliseconds
   * (default {@link DEFAULT_SERVER_SELECTION_TIMEOUT_MS}).
   */
  serverSelectionTimeoutMs?: number;
}

/** A register as a MongoDB document. */
export interface RegisterDocument {
  /** The register id. */
  _id: string;
  /** See {@link Register.name}. */
  name: string;
  /** See {@link Register.advertise}. */
  advertise: boolean;
  /** See {@link Register.isPublic}. */
  isPublic: boolean;
  /** See {@link Register.latestVersion}. */
  latestVersion: number;
  /** See {@link Register.latestDocketVersion}. */
  latestDocketVersion: number;
  /** See {@link Register.createdAt}. */
  createdAt: string;
  /** See {@link Register.updatedAt}. */
  updatedAt: string;
}

/**
 * Connects to MongoDB at `url` and creates the collection's index; throws an `unavailable`
 * {@link AppError} (without the URL's credentials) when no server answers within
 * `serverSelectionTimeoutMs`. The database is the URL's path when it has one, otherwise
 * `options.database`.
 */
export async function openMongoRegisterStore(
  url: string,
  options: MongoStoreOptions = {},
): Promise<MongoRegisterStore> {
  const timeoutMs = options.serverSelectionTimeoutMs ?? DEFAULT_SERVER_SELECTION_TIMEOUT_MS;
  const secrets = urlSecrets(url);
  let client: MongoClient;
  try {
    client = new MongoClient(url, { serverSelectionTimeoutMS: timeoutMs });
  } catch (error) {
    throw mongoFailure(error, secrets, "invalid MongoDB URL");
  }
  const database = databaseFromUrl(url) ?? options.database ?? DEFAULT_MONGO_DATABASE;
  const collection = client.db(database).collection<RegisterDocument>(
    options.collection ?? DEFAULT_MONGO_COLLECTION,
  );
  try {
    await client.connect();
    await collection.createIndex({ advertise: 1, _id: 1 }, { name: ADVERTISE_INDEX_NAME });
  } catch (error) {
    await client.close().catch(() => {});
    throw mongoFailure(
      error,
      secrets,
      `cannot open MongoDB at ${redactUrl(url)} (server selection timeout ${timeoutMs} ms)`,
    );
  }
  return new MongoRegisterStore(client, collection, secrets);
}

/** {@link RegisterStore} in a MongoDB collection. */
export class MongoRegisterStore implements RegisterStore, AsyncDisposable {
  /** Always `mongodb`. */
  readonly kind = "mongodb";
  readonly #client: MongoClient;
  readonly #collection: Collection<RegisterDocument>;
  readonly #secrets: string[];
  #closed = false;

  /** Wraps a connected client; prefer {@link openMongoRegisterStore}. */
  constructor(
    client: MongoClient,
    collection: Collection<RegisterDocument>,
    secrets: string[] = [],
  ) {
    this.#client = client;
    this.#collection = collection;
    this.#secrets = secrets;
  }

  /** The database's name. */
  get databaseName(): string {
    return this.#collection.dbName;
  }

  /** The collection's name. */
  get collectionName(): string {
    return this.#collection.collectionName;
  }

  insert(register: Register): Promise<void> {
    return this.#run(async () => {
      try {
        await this.#collection.insertOne(toDocument(register));
      } catch (error) {
        if (error instanceof MongoServerError && error.code === DUPLICATE_KEY) {
          throw alreadyExists(register.id);
        }
        throw error;
      }
    });
  }

  get(id: string): Promise<Register | undefined> {
    return this.#run(async () => {
      const document = await this.#collection.findOne({ _id: id });
      return document ? toRegister(document) : undefined;
    });
  }

  list(options: ListOptions = {}): Promise<Register[]> {
    return this.#run(async () => {
      const filter = options.advertise === undefined ? {} : { advertise: options.advertise };
      const documents = await this.#collection.find(filter).sort({ _id: 1 }).toArray();
      return documents.map(toRegister);
    });
  }

  listAdvertised(): Promise<AdvertisedRegister[]> {
    return this.#run(async () => {
      const documents = await this.#collection
        .find({ advertise: true }, {
          projection: { _id: 1, isPublic: 1, latestVersion: 1, latestDocketVersion: 1 },
          sort: { _id: 1 },
        })
        .toArray();
      return documents.map((document) => ({
        id: document._id,
        isPublic: document.isPublic,
        latestVersion: document.latestVersion,
        latestDocketVersion: document.latestDocketVersion,
      }));
    });
  }

  /**
   * One atomic `findOneAndUpdate` returning the document as it was; `after` is that document
   * with the same changes applied, which is what the `$set` wrote.
   */
  update(
    id: string,
    changes: RegisterChanges,
    updatedAt: string,
  ): Promise<{ before: Register; after: Register } | undefined> {
    return this.#run(async () => {
      const document = await this.#collection.findOneAndUpdate(
        { _id: id },
        { $set: changeSet(changes, updatedAt) },
        { returnDocument: "before" },
      );
      if (!document) return undefined;
      const before = toRegister(document);
      return { before, after: applyChanges(before, changes, updatedAt) };
    });
  }

  delete(id: string): Promise<Register | undefined> {
    return this.#run(async () => {
      const document = await this.#collection.findOneAndDelete({ _id: id });
      return document ? toRegister(document) : undefined;
    });
  }

  ping(): Promise<void> {
    return this.#run(async () => {
      await this.#client.db(this.#collection.dbName).command({ ping: 1 });
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#client.close();
  }

  /** Closes the store (`await using`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Runs `work`, turning a closed store or a driver error into an `unavailable` {@link AppError}. */
  async #run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#closed) throw mongoFailure(new Error("the store is closed"), this.#secrets);
    try {
      return await work();
    } catch (error) {
      throw mongoFailure(error, this.#secrets);
    }
  }
}

/** A register as its document. */
function toDocument(register: Register): RegisterDocument {
  const { id, ...fields } = register;
  return { _id: id, ...fields };
}

/** A document as a register (only the register's fields). */
function toRegister(document: RegisterDocument): Register {
  return {
    id: document._id,
    name: document.name,
    advertise: document.advertise,
    isPublic: document.isPublic,
    latestVersion: document.latestVersion,
    latestDocketVersion: document.latestDocketVersion,
    createdAt: document.createdAt,
    updatedAt: document.updatedAt,
  };
}

/** The `$set` of an update: the given fields (undefined ones left out) and `updatedAt`. */
function changeSet(changes: RegisterChanges, updatedAt: string): Partial<RegisterDocument> {
  return { ...definedChanges(changes), updatedAt };
}

/**
 * An `unavailable` error (`already_exists` and other {@link AppError}s are kept) saying what
 * failed, without credentials.
 */
function mongoFailure(cause: unknown, secrets: readonly string[], context?: string): AppError {
  if (cause instanceof AppError) return cause;
  const reason = cause instanceof Error ? cause.message : String(cause);
  const message = context ? `${context}: ${reason}` : reason;
  return new AppError(
    "unavailable",
    `Register store (MongoDB) failed: ${redactSecrets(message, secrets)}`,
    {
      cause,
    },
  );
}
