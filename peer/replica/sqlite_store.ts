/**
 * The embedded SQLite replica store (`node:sqlite`, WAL mode). One process
 * writes the replica (the hub link) while others read the same file (the
 * peer's HTTP API); every read runs in one read transaction, so it sees one
 * committed state: a checkpoint and exactly the entries it describes.
 *
 * Entries live in two tables of the same shape (`replica_entries_0` and
 * `replica_entries_1`: the blueprint id is the primary key, versions are
 * unique); the checkpoint's one row names the live one, and reads only ever
 * see that one. `apply` changes the live table and the checkpoint in one
 * transaction. A replacement fills the other table in short transactions
 * (the write lock is never held while waiting for the caller, so `apply`
 * still works meanwhile), and its commit points the checkpoint at it in one
 * small transaction; the replaced table is emptied afterwards. After a crash
 * the half-filled table is never read, and the next replacement empties it.
 *
 * A replacement is written by a worker on a connection of its own
 * (`sqlite_writer_worker.ts`, started with the store when it is told to, or
 * by its first replacement, and ended by `close`), so that its thousands of
 * rows are written beside the sync that receives them rather than on its
 * thread; the worker also checkpoints the WAL after each replacement (not at
 * its commits, where SQLite would wait for the disk). With `synchronous =
 * NORMAL` a commit is not flushed to disk either way, so this changes when
 * the disk is waited for, not what survives a crash.
 *
 * @module
 */
import type { Logger } from "@logtape/logtape";
import type { DatabaseSync, SQLOutputValue } from "node:sqlite";
import { AppError } from "../../shared/errors.ts";
import { log } from "../../shared/logging.ts";
import { openSqliteDatabase } from "../../shared/sqlite.ts";
import {
  failureReason,
  inWriteTransaction,
  runSqliteWork,
  sqliteUnavailable,
} from "../../shared/sqlite_work.ts";
import { checkEntry, decodeMetadata, syncKindOf } from "./entry_codec.ts";
import { checkListOptions } from "./list_options.ts";
import { SqliteReplacement } from "./sqlite_replacement.ts";
import {
  entryRow,
  liveSlot,
  prepareReplicaStatements,
  putCheckpoint,
  REPLICA_PAGE_SIZE,
  REPLICA_SCHEMA,
  type ReplicaStatements,
  type TableStatements,
  UNIQUE_VIOLATIONS,
} from "./sqlite_schema.ts";
import { SqliteWriter } from "./sqlite_writer.ts";
import type {
  ReplicaChange,
  ReplicaCheckpoint,
  ReplicaEntry,
  ReplicaIndexEntry,
  ReplicaListOptions,
  ReplicaReplacement,
  ReplicaStore,
} from "./types.ts";

/** Options of {@link openSqliteReplicaStore}. */
export interface SqliteReplicaStoreOptions {
  /** Where problems cleaning up after a replacement go (default: `log("peer", "replica")`). */
  logger?: Logger;
  /**
   * Start the writer worker now rather than at the first replacement (for the process that
   * writes the replica: starting a worker takes tens of milliseconds, which a first full sync
   * would otherwise wait for or share a core with).
   */
  startWriter?: boolean;
  /** The writer worker's module, in place of `sqlite_writer_worker.ts` (tests give one that fails). */
  writerModule?: URL;
}

/** Opens (creating it and its directory if needed) the replica store at `path`. */
export function openSqliteReplicaStore(
  path: string,
  options: SqliteReplicaStoreOptions = {},
): SqliteReplicaStore {
  return new SqliteReplicaStore(path, options);
}

/** {@link ReplicaStore} in an embedded SQLite database. */
export class SqliteReplicaStore implements ReplicaStore {
  /** Always `sqlite`. */
  readonly kind = "sqlite";
  /** The database file. */
  readonly path: string;
  readonly #db: DatabaseSync;
  readonly #statements: ReplicaStatements;
  readonly #logger: Logger;
  readonly #writerModule: URL | undefined;
  /** Writes replacements; started by the first one (and again after it stopped). */
  #writer: SqliteWriter | undefined;
  #replacement: SqliteReplacement | undefined;
  #replacements = 0;
  #closed = false;

  /** Opens the database; prefer {@link openSqliteReplicaStore}. */
  constructor(path: string, options: SqliteReplicaStoreOptions = {}) {
    this.path = path;
    this.#logger = options.logger ?? log("peer", "replica");
    try {
      this.#db = openSqliteDatabase(path, REPLICA_SCHEMA, { pageSize: REPLICA_PAGE_SIZE });
    } catch (error) {
      throw this.#failure("opening the database failed", error);
    }
    try {
      this.#statements = prepareReplicaStatements(this.#db);
    } catch (error) {
      this.#db.close();
      throw this.#failure("preparing the database failed", error);
    }
    this.#writerModule = options.writerModule;
    if (options.startWriter) this.#writer = this.#startWriter();
  }

  checkpoint(): Promise<ReplicaCheckpoint | undefined> {
    return this.#run("reading the checkpoint failed", () => {
      const row = this.#statements.checkpoint.get();
      return row && this.#toCheckpoint(row);
    });
  }

  index(): Promise<ReplicaIndexEntry[]> {
    return this.#run(
      "reading the index failed",
      () =>
        this.#snapshot([], (table) =>
          table.index.all().map((row) => ({
            blueprintId: String(row.blueprint_id),
            version: Number(row.version),
            checksum: String(row.checksum),
          }))),
    );
  }

  apply(change: ReplicaChange): Promise<void> {
    return this.#run("applying a change failed", () => {
      change.upsert.forEach(checkEntry);
      this.#transaction(() => {
        const slot = liveSlot(this.#statements);
        const table = this.#statements.tables[slot];
        for (const entry of change.upsert) table.upsert.run(...entryRow(entry));
        for (const blueprintId of change.remove) table.remove.run(blueprintId);
        putCheckpoint(this.#statements, change.checkpoint, slot);
      });
    });
  }

  replace(): Promise<ReplicaReplacement> {
    return this.#run("starting a replacement failed", () => {
      this.#replacement?.drop();
      if (this.#writer?.broken) this.#writer = undefined;
      this.#writer ??= this.#startWriter();
      const replacement = new SqliteReplacement(this.#writer, ++this.#replacements);
      this.#replacement = replacement;
      return replacement;
    });
  }

  get(blueprintId: string): Promise<ReplicaEntry | undefined> {
    return this.#run("reading an entry failed", () =>
      this.#snapshot(undefined, (table) => {
        const row = table.get.get(blueprintId);
        return row && this.#toEntry(row);
      }));
  }

  list(options: ReplicaListOptions): Promise<ReplicaEntry[]> {
    return this.#run("listing entries failed", () => {
      const { afterVersion, limit } = checkListOptions(options);
      if (limit === 0) return [];
      return this.#snapshot(
        [],
        (table) => table.list.all(afterVersion, limit).map((row) => this.#toEntry(row)),
      );
    });
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    this.#replacement?.drop();
    this.#db.close();
    return this.#writer?.close() ?? Promise.resolve();
  }

  #startWriter(): SqliteWriter {
    return new SqliteWriter(this.path, this.#logger, this.#writerModule);
  }

  /** The live table's slot (0 before the first checkpoint). */
  /**
   * Runs `read` on the live table in one read transaction (another process's commit cannot land
   * between finding the live table and reading it); `empty` without a checkpoint.
   */
  #snapshot<T>(empty: T, read: (table: TableStatements) => T): T {
    this.#db.exec("BEGIN");
    try {
      const row = this.#statements.liveSlot.get();
      return row === undefined ? empty : read(this.#statements.tables[row.slot === 1 ? 1 : 0]);
    } finally {
      this.#db.exec("COMMIT");
    }
  }

  /** Runs `work` in one write transaction, rolled back when it throws. */
  #transaction<T>(work: () => T): T {
    return inWriteTransaction(this.#db, work);
  }

  /** Runs `work`, turning a closed store or an SQLite error into an {@link AppError}. */
  #run<T>(what: string, work: () => T): Promise<T> {
    const closed = this.#closed ? this.#failure(`${what}: the store is closed`) : undefined;
    return runSqliteWork(work, (error) => this.#failure(what, error), closed);
  }

  /**
   * The error for a failure: an {@link AppError} as it is; two blueprints given one version,
   * `failed_precondition`; anything else, `unavailable`.
   */
  #failure(what: string, cause?: unknown): AppError {
    if (cause instanceof AppError) return cause;
    const errcode: unknown = cause instanceof Error ? Reflect.get(cause, "errcode") : undefined;
    if (typeof errcode === "number" && UNIQUE_VIOLATIONS.has(errcode)) {
      return new AppError(
        "failed_precondition",
        `SQLite at ${this.path}: ${
          failureReason(what, cause)
        } (two blueprints would hold one version)`,
        { cause },
      );
    }
    return sqliteUnavailable(this.path, what, cause);
  }

  #toCheckpoint(row: Record<string, SQLOutputValue>): ReplicaCheckpoint {
    const kind = syncKindOf(row.last_sync_kind);
    if (kind === undefined) throw this.#corrupt(`the checkpoint's sync kind ${row.last_sync_kind}`);
    return {
      version: Number(row.version),
      blueprints: Number(row.blueprints),
      digest: String(row.digest),
      hubId: String(row.hub_id),
      hubAddress: String(row.hub_address),
      genesisChecksum: String(row.genesis_checksum),
      lastSyncAt: Number(row.last_sync_at),
      lastSyncKind: kind,
    };
  }

  #toEntry(row: Record<string, SQLOutputValue>): ReplicaEntry {
    const blueprintId = String(row.blueprint_id);
    const metadata = decodeMetadata(String(row.metadata));
    if (!metadata) throw this.#corrupt(`the metadata of ${blueprintId}`);
    const document = row.document;
    return {
      blueprintId,
      version: Number(row.version),
      publishedAt: Number(row.published_at),
      publishedBy: String(row.published_by),
      publicationTransactionId: String(row.publication_transaction_id),
      checksum: String(row.checksum),
      metadata,
      document: document instanceof Uint8Array ? document : undefined,
      documentSize: Number(row.document_size),
    };
  }

  #corrupt(what: string): AppError {
    return new AppError("internal", `SQLite at ${this.path}: ${what} is not readable`);
  }
}
