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
import { type Collection, MongoServerError } from "mongodb";
import { connectMongoCollection, type MongoConnection } from "../../shared/mongo.ts";
import { databaseFromUrl, redactUrl } from "../../shared/mongo_url.ts";
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

/** A register as a MongoDB document: its id as `_id`, every other field as in {@link Register}. */
export type RegisterDocument = Omit<Register, "id"> & {
  /** The register id. */
  _id: string;
};

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
  const connection = await connectMongoCollection<RegisterDocument>(url, {
    store: "Register store",
    database: options.database ?? DEFAULT_MONGO_DATABASE,
    collection: options.collection ?? DEFAULT_MONGO_COLLECTION,
    timeoutMs: options.serverSelectionTimeoutMs ?? DEFAULT_SERVER_SELECTION_TIMEOUT_MS,
    setup: (collection) =>
      collection.createIndex({ advertise: 1, _id: 1 }, { name: ADVERTISE_INDEX_NAME }),
  });
  return new MongoRegisterStore(connection);
}

/** {@link RegisterStore} in a MongoDB collection. */
export class MongoRegisterStore implements RegisterStore, AsyncDisposable {
  /** Always `mongodb`. */
  readonly kind = "mongodb";
  readonly #mongo: MongoConnection<RegisterDocument>;
  readonly #collection: Collection<RegisterDocument>;

  /** Wraps a connected collection; made by {@link openMongoRegisterStore}. */
  constructor(connection: MongoConnection<RegisterDocument>) {
    this.#mongo = connection;
    this.#collection = connection.collection;
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
      await this.#mongo.client.db(this.#collection.dbName).command({ ping: 1 });
    });
  }

  close(): Promise<void> {
    return this.#mongo.close();
  }

  /** Closes the store (`await using`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Runs `work`, turning a closed store or a driver error into an `unavailable` {@link AppError}. */
  #run<T>(work: () => Promise<T>): Promise<T> {
    return this.#mongo.run(work);
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
