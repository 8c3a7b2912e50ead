/**
 * Opening the embedded SQLite databases every service keeps in `DATA_DIR`
 * (`node:sqlite`): the same directory creation, journal mode and lock wait
 * for all of them.
 *
 * @module
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";

/** How long a write waits for another connection's lock before failing, in milliseconds. */
export const SQLITE_BUSY_TIMEOUT_MS = 5_000;

/** Options of {@link openSqliteDatabase}. */
export interface OpenSqliteOptions {
  /**
   * The page size of a new database, in bytes (a power of two from 512 to
   * 65536; default SQLite's 4096). Tables of large rows write far fewer
   * pages with larger ones: 10,000 rows of 1 KiB take about a third of the
   * time with 16 KiB pages here, most of it in writing the log.
   */
  pageSize?: number;
}

/**
 * Opens the database at `path` (creating its directory; `:memory:` for none)
 * in WAL mode with {@link SQLITE_BUSY_TIMEOUT_MS}, and runs `schema`. Throws
 * the underlying error (the caller says what failed); a database whose setup
 * failed is closed first.
 */
export function openSqliteDatabase(
  path: string,
  schema: string,
  options: OpenSqliteOptions = {},
): DatabaseSync {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new DatabaseSync(path);
  try {
    // The page size first: it only takes effect before the database's first page is written.
    if (options.pageSize) db.exec(`PRAGMA page_size = ${options.pageSize}`);
    // The lock wait first: switching to WAL needs a lock another process may hold.
    db.exec(`PRAGMA busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = NORMAL");
    db.exec(schema);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}
