/**
 * The MongoDB system-register store (official driver), used when
 * `MONGODB_URL` is set. One document per entry in the
 * `sorcha_system_register_blueprints` collection; it works on a standalone
 * `mongod` (no transactions): every step is a single-document write, and
 * unique indexes are the points where hubs sharing the database serialize.
 *
 * Publishing, in steps:
 * 1. Read the last entry (highest version) and insert version last + 1,
 *    **inactive**, its chain hash computed from the last entry's. The unique
 *    `version` index lets one insert win per version; a loser (duplicate key)
 *    reads again and retries, a bounded number of times. So versions form one
 *    gap-free sequence and each entry chains to the one before it.
 * 2. Retire the blueprint's earlier active version, then activate the new
 *    one. At most one entry per blueprint is active (a partial unique index);
 *    when two versions of one blueprint are published at once, the higher one
 *    ends active.
 *
 * `ifAbsent` publications also store `firstOf: blueprintId`, unique: two hubs
 * running genesis at once cannot both store it; the loser returns the
 * winner's entry.
 *
 * Crashes: a hub stopping between the steps leaves its entry inactive (it is
 * in the chain already, so it stays). Until repaired, {@link
 * MongoSystemRegisterStore.latest} returns the blueprint's highest version
 * when none is active; opening the store repairs it (rolls the publication
 * forward: the highest version of every blueprint is made active).
 *
 * Reads answer as if each publication were atomic: `entries({activeOnly})`
 * also yields (as active) a blueprint's highest version while it is still
 * inactive, so a reader resuming after the last version it got misses no
 * publication; `head().activeCount` counts blueprints.
 *
 * Error messages never carry the URL's user name or password.
 * The document mapping and indexes are `mongo_documents.ts`; the activation step
 * and its retries, `mongo_activation.ts`.
 *
 * @module
 */
import type { Collection, Filter, UpdateFilter } from "mongodb";
import { AppError } from "../../shared/errors.ts";
import { connectMongoCollection, type MongoConnection } from "../../shared/mongo.ts";
import { chainHash, documentChecksum, GENESIS_CHAIN_HASH } from "./integrity.ts";
import {
  activateVersion,
  type ActivationOptions,
  isDuplicateKey,
  pause,
  settleEntry,
} from "./mongo_activation.ts";
import {
  type BlueprintDocument,
  SYSTEM_REGISTER_INDEXES,
  toDocument,
  toEntry,
} from "./mongo_documents.ts";
import { isSamePublication } from "./same_publication.ts";
import type {
  BlueprintEntry,
  EntriesOptions,
  PublishInput,
  PublishOptions,
  PublishResult,
  SystemRegisterHead,
  SystemRegisterStore,
} from "./types.ts";

/** Database used when neither the URL nor the options name one. */
export const DEFAULT_SYSTEM_REGISTER_DATABASE = "sorcha";
/** Collection used when the options name none. */
export const DEFAULT_SYSTEM_REGISTER_COLLECTION = "sorcha_system_register_blueprints";
/** How long opening (and every operation) waits for a server, in milliseconds, by default. */
export const DEFAULT_SYSTEM_REGISTER_SERVER_SELECTION_TIMEOUT_MS = 5_000;
/** How many times a publication tries for a version (and to activate it), by default. */
export const DEFAULT_PUBLISH_ATTEMPTS = 50;

const DEFAULT_PAGE_SIZE = 256;

export type { BlueprintDocument } from "./mongo_documents.ts";
export { SYSTEM_REGISTER_INDEXES } from "./mongo_documents.ts";

/** Options of {@link openMongoSystemRegisterStore}. */
export interface MongoSystemRegisterStoreOptions {
  /** Database, when the URL names none (default {@link DEFAULT_SYSTEM_REGISTER_DATABASE}). */
  database?: string;
  /** Collection (default {@link DEFAULT_SYSTEM_REGISTER_COLLECTION}); tests use their own. */
  collection?: string;
  /** How long to wait for a server, in milliseconds (default 5 000). */
  serverSelectionTimeoutMs?: number;
  /** Tries per publication for a version and for its activation (default {@link DEFAULT_PUBLISH_ATTEMPTS}). */
  publishAttempts?: number;
}

/**
 * Connects to MongoDB at `url`, creates the indexes ({@link SYSTEM_REGISTER_INDEXES}) and
 * repairs publications interrupted by a crash; throws an `unavailable` {@link AppError}
 * (without the URL's credentials) when no server answers within `serverSelectionTimeoutMs`.
 * The database is the URL's path when it has one, otherwise `options.database`. Reads go to
 * the primary whatever the URL says: a publication must see the latest entry.
 */
export async function openMongoSystemRegisterStore(
  url: string,
  options: MongoSystemRegisterStoreOptions = {},
): Promise<MongoSystemRegisterStore> {
  const connection = await connectMongoCollection<BlueprintDocument>(url, {
    store: "System register store",
    database: options.database ?? DEFAULT_SYSTEM_REGISTER_DATABASE,
    collection: options.collection ?? DEFAULT_SYSTEM_REGISTER_COLLECTION,
    timeoutMs: options.serverSelectionTimeoutMs ??
      DEFAULT_SYSTEM_REGISTER_SERVER_SELECTION_TIMEOUT_MS,
    readPreference: "primary",
    setup: (collection) => collection.createIndexes([...SYSTEM_REGISTER_INDEXES]),
  });
  const store = new MongoSystemRegisterStore(connection, {
    attempts: options.publishAttempts ?? DEFAULT_PUBLISH_ATTEMPTS,
  });
  try {
    await store.repair();
  } catch (error) {
    await store.close().catch(() => {});
    throw error;
  }
  return store;
}

/** {@link SystemRegisterStore} in a MongoDB collection (see the module's notes). */
export class MongoSystemRegisterStore implements SystemRegisterStore {
  /** Always `mongodb`. */
  readonly kind = "mongodb";
  readonly #mongo: MongoConnection<BlueprintDocument>;
  readonly #collection: Collection<BlueprintDocument>;
  readonly #attempts: number;
  readonly #activation: ActivationOptions;

  /** Wraps a connected collection; made by {@link openMongoSystemRegisterStore}, which also repairs. */
  constructor(
    connection: MongoConnection<BlueprintDocument>,
    options: { attempts?: number } = {},
  ) {
    this.#mongo = connection;
    this.#collection = connection.collection;
    this.#attempts = Math.max(1, options.attempts ?? DEFAULT_PUBLISH_ATTEMPTS);
    this.#activation = { collection: this.#collection, attempts: this.#attempts };
  }

  /** The database's name. */
  get databaseName(): string {
    return this.#collection.dbName;
  }

  /** The collection's name. */
  get collectionName(): string {
    return this.#collection.collectionName;
  }

  /** Stores the next version (inactive), then makes it the blueprint's active entry. */
  publish(input: PublishInput, options: PublishOptions = {}): Promise<PublishResult> {
    return this.#run(async () => {
      const checksum = documentChecksum(input.document);
      for (let attempt = 1; attempt <= this.#attempts; attempt++) {
        if (options.ifAbsent || options.ifChanged) {
          const existing = await this.#current(input.blueprintId);
          if (existing && (options.ifAbsent || isSamePublication(toEntry(existing), input))) {
            return {
              entry: await settleEntry(existing, this.#activation),
              created: false,
              replaced: false,
            };
          }
        }
        const last = await this.#last();
        const version = (last?.version ?? 0) + 1;
        const entry: BlueprintEntry = {
          blueprintId: input.blueprintId,
          document: input.document,
          publishedAt: input.publishedAt,
          publishedBy: input.publishedBy,
          version,
          isActive: false,
          publicationTransactionId: input.publicationTransactionId,
          checksum,
          metadata: input.metadata,
          chainHash: chainHash(last?.chainHash ?? GENESIS_CHAIN_HASH, {
            ...input,
            version,
            checksum,
          }),
        };
        try {
          await this.#collection.insertOne(
            toDocument(entry, options.ifAbsent ? input.blueprintId : undefined),
          );
        } catch (error) {
          if (!isDuplicateKey(error)) throw error;
          await pause(attempt); // another hub took this version (or stored this blueprint first)
          continue;
        }
        const { active, replaced } = await activateVersion(
          entry.blueprintId,
          version,
          this.#activation,
        );
        return { entry: { ...entry, isActive: active }, created: true, replaced };
      }
      throw new AppError(
        "unavailable",
        `System register store (MongoDB) failed: no free version after ${this.#attempts} attempts ` +
          "(too many publications at once); try again",
      );
    });
  }

  /**
   * The highest version and the counts (indexed reads, not one snapshot). `activeCount` counts
   * blueprints, as if publications were atomic (each has one current entry, as in SQLite): a
   * blueprint whose publication is unfinished counts once. {@link entries} with `activeOnly`
   * agrees, except in the brief moment between a new version's insert and the retirement of
   * the older active one, when it yields both.
   */
  head(): Promise<SystemRegisterHead> {
    return this.#run(async () => {
      const [last, entryCount, activeCount, lastPublished] = await Promise.all([
        this.#last(),
        this.#collection.countDocuments({}),
        this.#blueprintCount(),
        this.#collection.findOne<{ publishedAt: number }>({}, {
          sort: { publishedAt: -1 },
          projection: { _id: 0, publishedAt: 1 },
        }),
      ]);
      return {
        version: last?.version ?? 0,
        entryCount,
        activeCount,
        lastPublishedAt: lastPublished?.publishedAt,
      };
    });
  }

  /** The highest version (0 when empty): one indexed read of one field. */
  currentVersion(): Promise<number> {
    return this.#run(async () => (await this.#last())?.version ?? 0);
  }

  /**
   * Entries in version order: range queries on `version`, a page at a time. `activeOnly`
   * answers as if every publication were atomic (as the SQLite store does): it yields the
   * active entries and, marked active, every inactive entry that is its blueprint's highest
   * version (a publication in flight, or one a crash left unfinished); it skips superseded
   * entries (a higher version of the blueprint exists). So a reader resuming after the last
   * version it got never misses a publication that was still being activated when it read.
   * Each page reads all entries of a version range, then, in one indexed query, the highest
   * version of the blueprints of its inactive entries; `limit` counts the entries yielded.
   */
  async *entries(options: EntriesOptions = {}): AsyncIterable<BlueprintEntry> {
    const pageSize = Math.max(1, options.pageSize ?? DEFAULT_PAGE_SIZE);
    let after = options.afterVersion ?? 0;
    let left = options.limit ?? Number.POSITIVE_INFINITY;
    while (left > 0) {
      const want = Math.min(pageSize, left);
      const { read, last, entries } = await this.#run(() =>
        this.#page(after, want, options.activeOnly ?? false)
      );
      after = last;
      for (const entry of entries) {
        left--;
        yield entry;
      }
      if (read < want) return;
    }
  }

  /**
   * The active entry of a blueprint; when it has none (a publication in flight, or one
   * interrupted by a crash and not yet repaired), its highest version.
   */
  latest(blueprintId: string): Promise<BlueprintEntry | undefined> {
    return this.#run(async () => {
      const document = await this.#current(blueprintId);
      return document ? toEntry(document) : undefined;
    });
  }

  /**
   * Finishes publications interrupted between their steps: every blueprint whose highest
   * version is inactive gets that version activated. Run at open; returns how many.
   */
  repair(): Promise<number> {
    return this.#run(async () => {
      const stale = this.#collection.aggregate<{ _id: string; version: number }>([
        { $sort: { blueprintId: 1, version: -1 } },
        {
          $group: {
            _id: "$blueprintId",
            version: { $first: "$version" },
            isActive: { $first: "$isActive" },
          },
        },
        { $match: { isActive: false } },
      ], { allowDiskUse: true });
      let repaired = 0;
      for await (const { _id, version } of stale) {
        await activateVersion(_id, version, this.#activation);
        repaired++;
      }
      return repaired;
    });
  }

  /** Closes the connection. */
  close(): Promise<void> {
    return this.#mongo.close();
  }

  /** For tests: updates documents directly (to alter the store behind the hub's back); how many matched. */
  updateForTest(
    filter: Filter<BlueprintDocument>,
    update: UpdateFilter<BlueprintDocument>,
  ): Promise<number> {
    return this.#run(async () => (await this.#collection.updateMany(filter, update)).matchedCount);
  }

  /**
   * Up to `size` entries after version `after` (`read` of them, the highest `last`, or `after`
   * when none); with `activeOnly`, only those {@link entries} yields.
   */
  async #page(
    after: number,
    size: number,
    activeOnly: boolean,
  ): Promise<{ read: number; last: number; entries: BlueprintEntry[] }> {
    const documents = await this.#collection.find({ version: { $gt: after } })
      .sort({ version: 1 }).limit(size).toArray();
    const last = documents.at(-1)?.version ?? after;
    if (!activeOnly) return { read: documents.length, last, entries: documents.map(toEntry) };
    const inactive = documents.filter((document) => !document.isActive);
    const highest = await this.#highestVersions([
      ...new Set(inactive.map((document) => document.blueprintId)),
    ]);
    const entries: BlueprintEntry[] = [];
    for (const document of documents) {
      if (document.isActive) {
        entries.push(toEntry(document));
      } else if (highest.get(document.blueprintId) === document.version) {
        entries.push({ ...toEntry(document), isActive: true }); // in flight, or not yet repaired
      }
    }
    return { read: documents.length, last, entries };
  }

  /** The highest version of each of `blueprintIds`: one aggregation on `blueprintId_version`. */
  async #highestVersions(blueprintIds: readonly string[]): Promise<Map<string, number>> {
    const highest = new Map<string, number>();
    if (blueprintIds.length === 0) return highest;
    const rows = this.#collection.aggregate<{ _id: string; version: number }>([
      { $match: { blueprintId: { $in: [...blueprintIds] } } },
      { $sort: { blueprintId: 1, version: -1 } },
      { $group: { _id: "$blueprintId", version: { $first: "$version" } } },
    ]);
    for await (const { _id, version } of rows) highest.set(_id, version);
    return highest;
  }

  /**
   * How many blueprints the register holds: each has exactly one current entry (its active
   * one or, while a publication is unfinished, its highest version), as SQLite counts active
   * entries. A distinct scan of `blueprintId_version`, one key per blueprint.
   */
  async #blueprintCount(): Promise<number> {
    const [row] = await this.#collection.aggregate<{ count: number }>([
      { $sort: { blueprintId: 1, version: -1 } },
      { $group: { _id: "$blueprintId", version: { $first: "$version" } } },
      { $count: "count" },
    ], { allowDiskUse: true }).toArray();
    return row?.count ?? 0;
  }

  /** The entry with the highest version: its version and chain hash only. */
  #last(): Promise<{ version: number; chainHash: string } | null> {
    return this.#collection.findOne<{ version: number; chainHash: string }>({}, {
      sort: { version: -1 },
      projection: { _id: 0, version: 1, chainHash: 1 },
    });
  }

  /** The blueprint's active entry or, when none is active, its highest version. */
  async #current(blueprintId: string): Promise<BlueprintDocument | null> {
    return await this.#collection.findOne({ blueprintId, isActive: true }) ??
      await this.#collection.findOne({ blueprintId }, { sort: { version: -1 } });
  }

  /** Runs `work`, turning a closed store or a driver error into an `unavailable` {@link AppError}. */
  #run<T>(work: () => Promise<T>): Promise<T> {
    return this.#mongo.run(work);
  }
}
