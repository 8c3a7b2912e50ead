/**
 * The embedded SQLite register store (`node:sqlite`), used when no MongoDB
 * is configured. One `WITHOUT ROWID` table keyed by the register id, in WAL
 * mode, with an index on `(advertise, id)` so {@link SqliteRegisterStore.listAdvertised}
 * is an index range scan. Every statement is prepared once, at open.
 *
 * @module
 */
import type { DatabaseSync, SQLOutputValue, StatementSync } from "node:sqlite";
import { AppError, errorMessage } from "../../shared/errors.ts";
import { openSqliteDatabase } from "../../shared/sqlite.ts";
import { inWriteTransaction, runSqliteWork } from "../../shared/sqlite_work.ts";
import { alreadyExists, applyChanges } from "./changes.ts";
import type {
  AdvertisedRegister,
  ListOptions,
  Register,
  RegisterChanges,
  RegisterStore,
} from "./types.ts";

export { SQLITE_BUSY_TIMEOUT_MS } from "../../shared/sqlite.ts";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS registers (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  advertise INTEGER NOT NULL,
  is_public INTEGER NOT NULL,
  latest_version INTEGER NOT NULL,
  latest_docket_version INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS registers_by_advertise ON registers (advertise, id);
`;

const COLUMNS =
  "id, name, advertise, is_public, latest_version, latest_docket_version, created_at, updated_at";

/**
 * {@link COLUMNS} as read: the name as its bytes. `node:sqlite` under Deno
 * reads a text column only up to its first NUL; the bytes come back whole.
 */
const READ_COLUMNS = COLUMNS.replace("name", "CAST(name AS BLOB) AS name");

const utf8 = new TextDecoder();

/** Opens (creating it and its directory if needed) the SQLite register store at `path`. */
export function openSqliteRegisterStore(path: string): SqliteRegisterStore {
  return new SqliteRegisterStore(path);
}

/** The prepared statements of a store. */
interface Statements {
  insert: StatementSync;
  get: StatementSync;
  listAll: StatementSync;
  listByAdvertise: StatementSync;
  listAdvertised: StatementSync;
  update: StatementSync;
  delete: StatementSync;
  ping: StatementSync;
}

/** {@link RegisterStore} in an embedded SQLite database. */
export class SqliteRegisterStore implements RegisterStore, AsyncDisposable {
  /** Always `sqlite`. */
  readonly kind = "sqlite";
  /** The database file, or `:memory:`. */
  readonly path: string;
  readonly #db: DatabaseSync;
  readonly #statements: Statements;
  #closed = false;

  /** Opens the database; prefer {@link openSqliteRegisterStore}. */
  constructor(path: string) {
    this.path = path;
    try {
      this.#db = openSqliteDatabase(path, SCHEMA);
    } catch (error) {
      throw this.#failure(error);
    }
    try {
      this.#statements = prepareStatements(this.#db);
    } catch (error) {
      this.#db.close();
      throw this.#failure(error);
    }
  }

  insert(register: Register): Promise<void> {
    return this.#run(() => {
      const { changes } = this.#statements.insert.run(...registerParams(register));
      if (changes === 0) throw alreadyExists(register.id);
    });
  }

  get(id: string): Promise<Register | undefined> {
    return this.#run(() => {
      const row = this.#statements.get.get(id);
      return row ? toRegister(row) : undefined;
    });
  }

  list(options: ListOptions = {}): Promise<Register[]> {
    return this.#run(() => {
      const rows = options.advertise === undefined
        ? this.#statements.listAll.all()
        : this.#statements.listByAdvertise.all(options.advertise ? 1 : 0);
      return rows.map(toRegister);
    });
  }

  listAdvertised(): Promise<AdvertisedRegister[]> {
    return this.#run(() =>
      // Rows as arrays (see prepareStatements): a million come in half the time and a third
      // of the memory rows as objects take.
      (this.#statements.listAdvertised.all() as unknown as SQLOutputValue[][]).map(toAdvertised)
    );
  }

  update(
    id: string,
    changes: RegisterChanges,
    updatedAt: string,
  ): Promise<{ before: Register; after: Register } | undefined> {
    return this.#run(() =>
      this.#transaction(() => {
        const row = this.#statements.get.get(id);
        if (!row) return undefined;
        const before = toRegister(row);
        const after = applyChanges(before, changes, updatedAt);
        this.#statements.update.run(...registerParams(after));
        return { before, after };
      })
    );
  }

  delete(id: string): Promise<Register | undefined> {
    return this.#run(() => {
      const row = this.#statements.delete.get(id);
      return row ? toRegister(row) : undefined;
    });
  }

  ping(): Promise<void> {
    return this.#run(() => {
      this.#statements.ping.get();
    });
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#db.close();
    }
    return Promise.resolve();
  }

  /** Closes the store (`await using`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Runs `work` in one `BEGIN IMMEDIATE` transaction, rolled back when it throws. */
  #transaction<T>(work: () => T): T {
    return inWriteTransaction(this.#db, work);
  }

  /** Runs `work`, turning a closed store or an SQLite error into an `unavailable` {@link AppError}. */
  #run<T>(work: () => T): Promise<T> {
    const closed = this.#closed ? new Error("the store is closed") : undefined;
    return runSqliteWork(work, (error) => this.#failure(error), closed);
  }

  /** An `unavailable` error wrapping `cause`; an {@link AppError} is kept as it is. */
  #failure(cause: unknown): AppError {
    if (cause instanceof AppError) return cause;
    const message = errorMessage(cause);
    return new AppError(
      "unavailable",
      `Register store (SQLite at ${this.path}) failed: ${message}`,
      {
        cause,
      },
    );
  }
}

/** Prepares every statement the store runs. */
function prepareStatements(db: DatabaseSync): Statements {
  return {
    insert: db.prepare(
      `INSERT INTO registers (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO NOTHING`,
    ),
    get: db.prepare(`SELECT ${READ_COLUMNS} FROM registers WHERE id = ?`),
    listAll: db.prepare(`SELECT ${READ_COLUMNS} FROM registers ORDER BY id`),
    listByAdvertise: db.prepare(
      `SELECT ${READ_COLUMNS} FROM registers WHERE advertise = ? ORDER BY id`,
    ),
    listAdvertised: arrayRows(db.prepare(
      `SELECT id, is_public, latest_version, latest_docket_version FROM registers
       WHERE advertise = 1 ORDER BY id`,
    )),
    update: db.prepare(
      // Numbered as in registerParams(); ?7 (created_at) is never changed.
      `UPDATE registers SET name = ?2, advertise = ?3, is_public = ?4, latest_version = ?5,
         latest_docket_version = ?6, updated_at = ?8
       WHERE id = ?1`,
    ),
    delete: db.prepare(`DELETE FROM registers WHERE id = ? RETURNING ${READ_COLUMNS}`),
    ping: db.prepare("SELECT 1"),
  };
}

/** The parameters of the insert statement, in {@link COLUMNS} order. */
function registerParams(
  register: Register,
): [string, string, number, number, number, number, string, string] {
  return [
    register.id,
    register.name,
    register.advertise ? 1 : 0,
    register.isPublic ? 1 : 0,
    register.latestVersion,
    register.latestDocketVersion,
    register.createdAt,
    register.updatedAt,
  ];
}

/** A row of every column as a register. */
function toRegister(row: Record<string, SQLOutputValue>): Register {
  return {
    id: String(row.id),
    name: row.name instanceof Uint8Array ? utf8.decode(row.name) : String(row.name),
    advertise: Number(row.advertise) === 1,
    isPublic: Number(row.is_public) === 1,
    latestVersion: Number(row.latest_version),
    latestDocketVersion: Number(row.latest_docket_version),
    createdAt: String(row.created_at),
    updatedAt: String(row.updated_at),
  };
}

/**
 * `statement`, answering rows as arrays of column values (`setReturnArrays`, which
 * `node:sqlite`'s types do not list yet).
 */
function arrayRows(statement: StatementSync): StatementSync {
  (statement as unknown as { setReturnArrays(on: boolean): void }).setReturnArrays(true);
  return statement;
}

/** A row of the advertised columns, as an array, as what the peer needs. */
function toAdvertised(row: SQLOutputValue[]): AdvertisedRegister {
  const [id, isPublic, latestVersion, latestDocketVersion] = row;
  return {
    id: String(id),
    isPublic: Number(isPublic) === 1,
    latestVersion: Number(latestVersion),
    latestDocketVersion: Number(latestDocketVersion),
  };
}
