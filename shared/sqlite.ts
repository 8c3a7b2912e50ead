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

/**
 * Opens the database at `path` (creating its directory; `:memory:` for none)
 * in WAL mode with {@link SQLITE_BUSY_TIMEOUT_MS}, and runs `schema`. Throws
 * the underlying error (the caller says what failed); a database whose setup
 * failed is closed first.
 */
export function openSqliteDatabase(path: string, schema: string): DatabaseSync {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new DatabaseSync(path);
  try {
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
