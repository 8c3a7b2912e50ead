/**
 * The embedded system-register store (`node:sqlite`, WAL mode), used when no
 * MongoDB is configured. Versions are assigned inside `BEGIN IMMEDIATE`
 * transactions, so hubs sharing one `DATA_DIR` (one database file) still
 * get one strictly increasing sequence. Reads go page by page.
 *
 * @module
 */
import type { DatabaseSync, SQLOutputValue, StatementSync } from "node:sqlite";
import { AppError } from "../../shared/errors.ts";
import { openSqliteDatabase } from "../../shared/sqlite.ts";
import { inWriteTransaction } from "../../shared/sqlite_work.ts";
import { chainHash, documentChecksum, GENESIS_CHAIN_HASH } from "./integrity.ts";
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

const SCHEMA = `
CREATE TABLE IF NOT EXISTS blueprints (
  version INTEGER PRIMARY KEY,
  blueprint_id TEXT NOT NULL,
  document BLOB NOT NULL,
  published_at INTEGER NOT NULL,
  published_by TEXT NOT NULL,
  is_active INTEGER NOT NULL,
  publication_transaction_id TEXT NOT NULL,
  checksum TEXT NOT NULL,
  metadata TEXT NOT NULL,
  chain_hash TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS blueprints_active_id ON blueprints (blueprint_id) WHERE is_active = 1;
CREATE INDEX IF NOT EXISTS blueprints_by_id ON blueprints (blueprint_id, version);
CREATE INDEX IF NOT EXISTS blueprints_by_published_at ON blueprints (published_at);
CREATE INDEX IF NOT EXISTS blueprints_by_active ON blueprints (is_active, version);
`;

const COLUMNS = "version, blueprint_id, document, published_at, published_by, is_active, " +
  "publication_transaction_id, checksum, metadata, chain_hash";

/** `StatementSync.setReturnArrays` of `node:sqlite` (Node 24, Deno 2), missing from its types here. */
type ArrayStatement = StatementSync & { setReturnArrays(enabled: boolean): void };

/** Opens (creating it and its directory) the SQLite system register at `path`. */
export function openSqliteSystemRegisterStore(path: string): SqliteSystemRegisterStore {
  return new SqliteSystemRegisterStore(path);
}

function entryOf(row: Record<string, SQLOutputValue>): BlueprintEntry {
  return {
    version: Number(row.version),
    blueprintId: String(row.blueprint_id),
    document: new Uint8Array(row.document as Uint8Array),
    publishedAt: Number(row.published_at),
    publishedBy: String(row.published_by),
    isActive: Number(row.is_active) === 1,
    publicationTransactionId: String(row.publication_transaction_id),
    checksum: String(row.checksum),
    metadata: metadataOf(row.metadata),
    chainHash: String(row.chain_hash),
  };
}

/** Labels as stored (JSON); most entries have none. */
function metadataOf(value: SQLOutputValue | undefined): Record<string, string> {
  const json = String(value);
  return json === "{}" ? {} : JSON.parse(json) as Record<string, string>;
}

/**
 * A page row, as an array in {@link COLUMNS} order (cheaper to build than an
 * object, for thousands of rows). Its document is its own copy already.
 */
function entryOfArray(row: SQLOutputValue[]): BlueprintEntry {
  return {
    version: Number(row[0]),
    blueprintId: String(row[1]),
    document: row[2] as Uint8Array,
    publishedAt: Number(row[3]),
    publishedBy: String(row[4]),
    isActive: Number(row[5]) === 1,
    publicationTransactionId: String(row[6]),
    checksum: String(row[7]),
    metadata: metadataOf(row[8]),
    chainHash: String(row[9]),
  };
}

/** {@link SystemRegisterStore} in an embedded SQLite database. */
export class SqliteSystemRegisterStore implements SystemRegisterStore {
  readonly kind = "sqlite";
  readonly #db: DatabaseSync;
  readonly #statements: Record<string, StatementSync>;
  #closed = false;

  /** Opens the database at `path`. */
  constructor(path: string) {
    try {
      this.#db = openSqliteDatabase(path, SCHEMA);
    } catch (error) {
      throw new AppError("unavailable", `Cannot open the system register at ${path}: ${error}`, {
        cause: error,
      });
    }
    const db = this.#db;
    this.#statements = {
      last: db.prepare("SELECT version, chain_hash FROM blueprints ORDER BY version DESC LIMIT 1"),
      active: db.prepare(
        `SELECT ${COLUMNS} FROM blueprints WHERE blueprint_id = ? AND is_active = 1`,
      ),
      deactivate: db.prepare(
        "UPDATE blueprints SET is_active = 0 WHERE blueprint_id = ? AND is_active = 1",
      ),
      insert: db.prepare(
        `INSERT INTO blueprints (${COLUMNS}) VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?)`,
      ),
      version: db.prepare("SELECT COALESCE(MAX(version), 0) AS version FROM blueprints"),
      head: db.prepare(
        "SELECT COALESCE(MAX(version), 0) AS version, COUNT(*) AS entries, " +
          "COALESCE(SUM(is_active), 0) AS active, MAX(published_at) AS last FROM blueprints",
      ),
      page: db.prepare(
        `SELECT ${COLUMNS} FROM blueprints WHERE version > ? ORDER BY version LIMIT ?`,
      ),
      activePage: db.prepare(
        `SELECT ${COLUMNS} FROM blueprints WHERE is_active = 1 AND version > ? ORDER BY version LIMIT ?`,
      ),
    };
    for (const name of ["page", "activePage"]) {
      (this.#statements[name] as ArrayStatement).setReturnArrays(true);
    }
  }

  /** Stores the next version of a blueprint in one transaction. */
  publish(input: PublishInput, options: PublishOptions = {}): Promise<PublishResult> {
    return this.#run(() => {
      const s = this.#statements;
      return inWriteTransaction(this.#db, (): PublishResult => {
        const current = s.active!.get(input.blueprintId);
        if (
          current &&
          (options.ifAbsent || (options.ifChanged && isSamePublication(entryOf(current), input)))
        ) {
          return { entry: entryOf(current), created: false, replaced: false };
        }
        const last = s.last!.get();
        const version = last ? Number(last.version) + 1 : 1;
        const checksum = documentChecksum(input.document);
        const entry: BlueprintEntry = {
          ...input,
          version,
          isActive: true,
          checksum,
          chainHash: chainHash(last ? String(last.chain_hash) : GENESIS_CHAIN_HASH, {
            ...input,
            version,
            checksum,
          }),
        };
        const replaced = Number(s.deactivate!.run(input.blueprintId).changes) > 0;
        s.insert!.run(
          version,
          entry.blueprintId,
          entry.document,
          entry.publishedAt,
          entry.publishedBy,
          entry.publicationTransactionId,
          entry.checksum,
          JSON.stringify(entry.metadata),
          entry.chainHash,
        );
        return { entry, created: true, replaced };
      });
    });
  }

  /** The highest version and the counts. */
  head(): Promise<SystemRegisterHead> {
    return this.#run(() => {
      const row = this.#statements.head!.get()!;
      return {
        version: Number(row.version),
        entryCount: Number(row.entries),
        activeCount: Number(row.active),
        lastPublishedAt: row.last === null ? undefined : Number(row.last),
      };
    });
  }

  /** The highest version (0 when empty). */
  currentVersion(): Promise<number> {
    return this.#run(() => Number(this.#statements.version!.get()!.version));
  }

  /** Entries in version order, a page at a time (1000 entries unless told otherwise). */
  async *entries(options: EntriesOptions = {}): AsyncIterable<BlueprintEntry> {
    const pageSize = options.pageSize ?? 1000;
    let after = options.afterVersion ?? 0;
    let left = options.limit ?? Number.POSITIVE_INFINITY;
    const statement = this.#statements[options.activeOnly ? "activePage" : "page"]!;
    while (left > 0) {
      const size = Math.min(pageSize, left);
      const rows = await this.#run(() =>
        statement.all(after, size) as unknown as SQLOutputValue[][]
      );
      for (const row of rows) {
        const entry = entryOfArray(row);
        after = entry.version;
        left--;
        yield entry;
      }
      if (rows.length < size) return;
    }
  }

  /** The active entry of a blueprint. */
  latest(blueprintId: string): Promise<BlueprintEntry | undefined> {
    return this.#run(() => {
      const row = this.#statements.active!.get(blueprintId);
      return row ? entryOf(row) : undefined;
    });
  }

  /** Closes the database. */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#db.close();
    }
    return Promise.resolve();
  }

  /** For tests: runs SQL directly (to alter the store behind the hub's back). */
  execForTest(sql: string, ...params: (string | number | Uint8Array)[]): void {
    this.#db.prepare(sql).run(...params);
  }

  #run<T>(fn: () => T): Promise<T> {
    if (this.#closed) {
      return Promise.reject(new AppError("unavailable", "the system register store is closed"));
    }
    try {
      return Promise.resolve(fn());
    } catch (error) {
      return Promise.reject(
        error instanceof AppError
          ? error
          : new AppError("unavailable", `System register store failed: ${error}`, { cause: error }),
      );
    }
  }
}
